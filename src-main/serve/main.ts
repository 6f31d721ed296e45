// `npm run serve`: the editor in a browser, with the services running in this process.
//   node src-main/serve/main.ts [--port 5178] [--data-dir DIR] [--static-dir DIR] [--max-upload-mb N]
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer } from './server.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5178' },
    'data-dir': { type: 'string', default: path.join(os.homedir(), '.rerender-studio') },
    'static-dir': { type: 'string', default: path.join(root, 'dist', 'renderer') },
    'max-upload-mb': { type: 'string', default: String(16 * 1024) },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write('usage: node src-main/serve/main.ts [--port N (0 = random)] [--data-dir DIR] [--static-dir DIR] [--max-upload-mb N]\n');
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`error: --port must be an integer 0..65535, got ${JSON.stringify(values.port)}\n`);
  process.exit(2);
}
const maxUploadMb = Number(values['max-upload-mb']);
if (!Number.isFinite(maxUploadMb) || maxUploadMb <= 0) {
  process.stderr.write(`error: --max-upload-mb must be a positive number, got ${JSON.stringify(values['max-upload-mb'])}\n`);
  process.exit(2);
}
const server = await startServer({
  port,
  dataDir: path.resolve(values['data-dir']),
  staticDir: path.resolve(values['static-dir']),
  maxUploadBytes: Math.floor(maxUploadMb * 1024 * 1024),
});
process.stdout.write(`Rerender Studio (browser mode) at ${server.url}\n`);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
