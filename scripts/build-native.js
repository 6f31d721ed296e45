// `npm install` hook: compiles the C++/N-API addons under native/ from source, offline.
// node-gyp compiles against the headers that the `node-<platform>-<arch>` package (Node 24, the Node
// Electron >= 40 embeds) ships, so no header download is needed. N-API keeps one binary valid
// for Node and Electron alike.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const nativeDir = join(root, 'native');
if (process.env.RERENDER_SKIP_NATIVE === '1' || !existsSync(join(nativeDir, 'binding.gyp'))) {
  process.exit(0);
}
const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  console.error('[rerender] node-gyp is missing: run `npm ci` with dev dependencies to build native/.');
  process.exit(1);
}
const jobs = process.env.JOBS ?? 'max';
const args = [gyp, 'rebuild', '--release', `--jobs=${jobs}`];
const headers = join(root, 'node_modules', `node-${process.platform}-${process.arch}`);
if (existsSync(join(headers, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${headers}`);
const r = spawnSync(process.execPath, args, { cwd: nativeDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('[rerender] building native/ failed. It needs a C++17 compiler, make, python3 and OpenCV 4 headers (Debian: apt-get install build-essential libopencv-dev).');
  process.exit(r.status ?? 1);
}
