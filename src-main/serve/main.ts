// `npm run serve`: the editor in a browser, with the services running in this process.
//   node src-main/serve/main.ts [--port 5178] [--data-dir DIR] [--static-dir DIR] [--max-upload-mb N]
//                               [--upload-quota-mb N] [--no-token]
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer } from './server.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_UPLOAD_QUOTA_BYTES } from './upload.ts';

const USAGE =
  'usage: node src-main/serve/main.ts [--port N (0 = random)] [--data-dir DIR] [--static-dir DIR] [--max-upload-mb N] [--upload-quota-mb N] [--no-token]\n' +
  '  --no-token  serve without the access token: any local process can then use the editor and read your files\n';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5178' },
    'data-dir': { type: 'string', default: path.join(os.homedir(), '.rerender-studio') },
    'static-dir': { type: 'string', default: path.join(root, 'dist', 'renderer') },
    'max-upload-mb': { type: 'string', default: String(DEFAULT_MAX_UPLOAD_BYTES / 1024 ** 2) },
    'upload-quota-mb': { type: 'string', default: String(DEFAULT_UPLOAD_QUOTA_BYTES / 1024 ** 2) },
    'no-token': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`error: --port must be an integer 0..65535, got ${JSON.stringify(values.port)}\n`);
  process.exit(2);
}
function megabytes(flag: 'max-upload-mb' | 'upload-quota-mb'): number {
  const mb = Number(values[flag]);
  if (!Number.isFinite(mb) || mb <= 0) {
    process.stderr.write(`error: --${flag} must be a positive number, got ${JSON.stringify(values[flag])}\n`);
    process.exit(2);
  }
  return Math.floor(mb * 1024 * 1024);
}
const maxUploadBytes = megabytes('max-upload-mb');
const uploadQuotaBytes = megabytes('upload-quota-mb');
// The server binds loopback only; checked here too so that --no-token can never widen to a network.
const host: '127.0.0.1' | 'localhost' = '127.0.0.1';
const isLoopback = (h: string) => h === '127.0.0.1' || h === 'localhost';
if (values['no-token']) {
  if (!isLoopback(host)) {
    process.stderr.write('error: --no-token is allowed only when listening on loopback\n');
    process.exit(2);
  }
  process.stderr.write(
    'warning: --no-token: any process on this machine (and anyone reaching this port through a tunnel) can use the editor, ' +
      'list your folders and read your videos.\n',
  );
}
const server = await startServer({
  host,
  port,
  dataDir: path.resolve(values['data-dir']),
  staticDir: path.resolve(values['static-dir']),
  maxUploadBytes,
  uploadQuotaBytes,
  token: values['no-token'] ? null : undefined,
});
process.stdout.write(`Rerender Studio (browser mode) at ${server.url}\n`);
if (server.token !== null) process.stdout.write('Open that URL (it carries this launch\'s access token); the address without the token answers 401.\n');
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
