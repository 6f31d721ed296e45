// Entry of the services utility process: the heavy work (SQLite, ffmpeg, inference,
// propagation) runs here, never in main. Talks to main over `process.parentPort`.
import { createApiHost } from '../api/host.ts';
import type { MessagePortLike } from './electron-types.ts';
import { serveHost } from './services-messages.ts';

const parentPort = (process as unknown as { parentPort?: MessagePortLike }).parentPort;
const dataDir = process.env.RERENDER_DATA_DIR;
if (!parentPort || !dataDir) {
  throw new Error('services-process must be started by the Electron shell (parentPort and RERENDER_DATA_DIR missing)');
}
const host = createApiHost({ dataDir, env: process.env });
serveHost(host, parentPort);
process.on('exit', () => void host.dispose());
