// Browser mode: the editor in a normal browser, served from 127.0.0.1 only. Static renderer
// files, `/media/*` through the host's media reader, and a WebSocket `/api` carrying the same
// RerenderApi, and `PUT /upload/<name>` for files dropped on the page. Every request must name our own host:port (DNS-rebinding protection) and
// WebSocket upgrades must come from our own origin (cross-site protection).
import http from 'node:http';
import path from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventName, RerenderApi } from '../api/contract.ts';
import { decodeWire, encodeWire, isClientMessage, type ServerMessage } from './wire.ts';
import { cacheControl, mimeType, resolveStatic } from './static-files.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, UploadError, receiveUpload } from './upload.ts';

/** What the server needs of the services host (see src-main/api/host.ts). */
export interface ServedApiHost {
  api: Pick<RerenderApi, 'on'>;
  call(name: string, args: unknown[]): Promise<unknown>;
  media(route: string, req: { range?: string; ifNoneMatch?: string }): Promise<{ status: number; headers: Record<string, string>; body: Uint8Array | null }>;
  dispose(): Promise<void>;
}

export interface ServerOptions {
  /** Bind address: loopback only. */
  host?: '127.0.0.1' | 'localhost';
  /** 0 picks a free port. */
  port: number;
  /** The host's data directory (recent projects, caches); used when `apiHost` is not given. */
  dataDir: string;
  /** The built renderer (dist/renderer). */
  staticDir: string;
  /** A services host to serve; created from `dataDir` when omitted and disposed on close. */
  apiHost?: ServedApiHost;
  /** Largest `PUT /upload/<name>` accepted, in bytes (default 16 GiB). */
  maxUploadBytes?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const EVENTS: EventName[] = ['job', 'project'];
const MAX_MESSAGE = 256 * 1024 * 1024;

function wireError(err: unknown): { code: string; message: string } {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: err.message };
  }
  return { code: 'INTERNAL', message: String(err) };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const bind = opts.host ?? '127.0.0.1';
  if (bind !== '127.0.0.1' && bind !== 'localhost') throw new Error(`refusing to bind ${String(bind)}: browser mode listens on loopback only`);
  const ownsHost = !opts.apiHost;
  const apiHost: ServedApiHost = opts.apiHost ?? (await import('../api/host.ts')).createApiHost({ dataDir: opts.dataDir, env: process.env });

  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  const server = http.createServer((req, res) => {
    void handleHttp(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(err instanceof Error ? err.message : String(err));
    });
  });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end(body);
    };
    if (!allowedHosts().has(req.headers.host ?? '')) return send(403, 'forbidden host');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return send(403, 'forbidden origin');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname.startsWith('/upload/')) return handleUpload(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');

    if (url.pathname.startsWith('/media/')) {
      const route = decodeURIComponent(url.pathname.slice('/media/'.length));
      const mreq: { range?: string; ifNoneMatch?: string } = {};
      if (typeof req.headers.range === 'string') mreq.range = req.headers.range;
      if (typeof req.headers['if-none-match'] === 'string') mreq.ifNoneMatch = req.headers['if-none-match'];
      const reply = await apiHost.media(route, mreq);
      const headers: Record<string, string> = {
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'cross-origin-resource-policy': 'same-origin',
        ...reply.headers,
      };
      res.writeHead(reply.status, headers);
      res.end(req.method === 'HEAD' || reply.status === 304 || !reply.body ? undefined : reply.body);
      return;
    }

    if (url.pathname === '/api') return send(426, 'use a WebSocket');
    let file = resolveStatic(opts.staticDir, url.pathname);
    if (!file) return send(403, 'forbidden path');
    let info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      // Unknown non-asset paths fall back to the app (it has no client-side routes, but a reload must work).
      if (url.pathname.startsWith('/assets/')) return send(404, 'not found');
      file = resolveStatic(opts.staticDir, '/');
      info = file ? await stat(file).catch(() => null) : null;
      if (!file || !info?.isFile()) return send(503, 'the editor is not built: run `npx vite build` first');
    }
    const data = await readFile(file);
    res.writeHead(200, {
      'content-type': mimeType(file),
      'content-length': String(data.length),
      'cache-control': cacheControl(url.pathname),
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : data);
  }

  /** `PUT /upload/<name>`: the body becomes a file in <dataDir>/uploads; answers { path, name, size }. */
  async function handleUpload(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const json = (status: number, body: unknown, close = false) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', ...(close ? { connection: 'close' } : {}) });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'PUT') return json(405, { code: 'METHOD_NOT_ALLOWED', message: 'upload with PUT' }, true);
    let name: string;
    try {
      name = decodeURIComponent(url.pathname.slice('/upload/'.length));
    } catch {
      return json(400, { code: 'INVALID_ARGUMENT', message: 'the file name is not valid percent-encoding' }, true);
    }
    try {
      const stored = await receiveUpload(req, name, path.join(opts.dataDir, 'uploads'), opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES);
      json(201, stored);
    } catch (err) {
      // The rest of a refused body is not read: answer, then close the connection.
      if (err instanceof UploadError) return json(err.status, { code: err.code, message: err.message }, true);
      throw err;
    }
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const ok = url.pathname === '/api' && allowedHosts().has(req.headers.host ?? '') && allowedOrigins().has(req.headers.origin ?? '');
    if (!ok) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const post = (m: ServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(encodeWire(m));
    };
    const offs = EVENTS.map((event) => apiHost.api.on(event, (payload) => post({ event, payload })));
    ws.on('close', () => offs.forEach((off) => off()));
    ws.on('message', (data, isBinary) => {
      let msg: unknown;
      try {
        msg = isBinary ? null : decodeWire(String(data));
      } catch {
        msg = null;
      }
      if (!isClientMessage(msg)) {
        ws.close(1003, 'malformed message');
        return;
      }
      const { id } = msg;
      apiHost.call(msg.method, msg.args).then(
        (value) => post({ id, ok: true, value: value ?? null }),
        (err: unknown) => post({ id, ok: false, error: wireError(err) }),
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, bind === 'localhost' ? '127.0.0.1' : bind, () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsHost) await apiHost.dispose();
    },
  };
}
