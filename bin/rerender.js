#!/usr/bin/env node
// `rerender` CLI launcher: the packaged build runs compiled JS; a source checkout runs the
// TypeScript directly, which needs Node >= 24 (the Node that Electron embeds).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const compiled = join(root, 'dist', 'src-main', 'cli', 'main.js');
const major = Number(process.versions.node.split('.')[0]);
let entry;
if (existsSync(compiled)) entry = compiled;
else if (major >= 24) entry = join(root, 'src-main', 'cli', 'main.ts');
else {
  process.stderr.write(`rerender needs Node 24 or newer (this is ${process.version}). Run it through npm (\`npm run rerender -- ...\`), which uses the project's Node 24, or build it with \`npm run build:main\`.\n`);
  process.exit(4);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
