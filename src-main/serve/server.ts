// Browser mode: the editor in a normal browser, served from 127.0.0.1 only. Static renderer
// files, `/media/*` through the host's media reader, and a WebSocket `/api` carrying the same
// RerenderApi, and `PUT /upload/<name>` for files dropped on the page. Every request must name
// our own host:port (DNS-rebinding protection), WebSocket upgrades must come from our own origin
// (cross-site protection), and every request must carry the per-launch token (auth.ts: other
// local processes, or anyone reaching a tunnelled port, get nothing without it).
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventName, RerenderApi } from '../api/contract.ts';
import { decodeWire, encodeWire, isClientMessage, type ServerMessage } from './wire.ts';
import { cacheControl, mimeType, resolveStatic } from './static-files.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_UPLOAD_QUOTA_BYTES, UploadError } from './upload.ts';
import { UploadStore } from './upload-store.ts';
import { UNAUTHORIZED_TEXT, generateToken, hasToken, setCookieHeader, tokensEqual, validToken } from './auth.ts';
import { errorCodeOf, statusForError } from './http-errors.ts';
import { EXPORTS_PREFIX, ExportDownloads, serveExport } from './downloads.ts';

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
  /** Largest `PUT /upload/<name>` accepted, in bytes (default 4 GiB). */
  maxUploadBytes?: number;
  /** All of <dataDir>/uploads together, in bytes (default 16 GiB). */
  uploadQuotaBytes?: number;
  /** The access token: undefined = a fresh random one; null = none (loopback only, at the user's request). */
  token?: string | null;
}

export interface RunningServer {
  /** The URL to open: carries `?token=` when there is a token. */
  url: string;
  /** The same URL without the token (for building request URLs; they need the cookie or a Bearer header). */
  origin: string;
  port: number;
  token: string | null;
  close(): Promise<void>;
}

const EVENTS: EventName[] = ['job', 'project'];
// The biggest legitimate message is a key-frame image import (or a painted mask): a PNG at the
// working size, base64 inside JSON (4/3 of its bytes). Even an uncompressed 4096×4096 RGBA PNG is
// 64 MiB raw, and working sizes are far smaller (512-1024 short side: a few MiB), so 64 MiB
// leaves room while a bigger frame is refused from its header (close 1009) without buffering.
const MAX_MESSAGE = 64 * 1024 * 1024;

function wireError(err: unknown): { code: string; message: string } {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: err.message };
  }
  return { code: 'INTERNAL', message: String(err) };
}

function plain(res: http.ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...extra });
  res.end(body);
}

/** The `id` of a message that is JSON but not a valid request, so the error can be answered. */
function requestId(text: string): number | null {
  try {
    const raw: unknown = JSON.parse(text);
    const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
    return typeof id === 'number' && Number.isSafeInteger(id) ? id : null;
  } catch {
    return null;
  }
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const bind = opts.host ?? '127.0.0.1';
  if (bind !== '127.0.0.1' && bind !== 'localhost') throw new Error(`refusing to bind ${String(bind)}: browser mode listens on loopback only`);
  const token = opts.token === undefined ? generateToken() : opts.token;
  if (token !== null && !validToken(token)) throw new Error('the access token must be at least 22 characters of A-Z a-z 0-9 _ -');
  const uploads = new UploadStore({
    dataDir: opts.dataDir,
    maxFileBytes: opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    quotaBytes: opts.uploadQuotaBytes ?? DEFAULT_UPLOAD_QUOTA_BYTES,
  });
  await uploads.sweep().catch((err: unknown) => console.error('upload clean-up failed:', err));
  const ownsHost = !opts.apiHost;
  const apiHost: ServedApiHost = opts.apiHost ?? (await import('../api/host.ts')).createApiHost({ dataDir: opts.dataDir, env: process.env });
  // What this session exported can be fetched back (`/exports/<job id>`): nothing else.
  const downloads = new ExportDownloads(() => apiHost.call('listJobs', []));

  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  const server = http.createServer((req, res) => {
    void handleHttp(req, res).catch((err: unknown) => {
      // Known failures (no project open, a missing frame…) are the request's fault: 4xx with
      // their message. Anything else is a bug: 500, logged.
      const status = statusForError(err);
      if (status === 500) console.error(`${req.method} ${req.url}:`, err);
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) plain(res, status, message + '\n', errorCodeOf(err) ? { 'x-error-code': errorCodeOf(err)! } : {});
      else res.destroy();
    });
  });
  // A request Node cannot parse: answer 400 where the socket still allows it, then drop it.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
  });

  /** 'ok', or the answer already sent (401, or the redirect that trades `?token=` for the cookie). */
  function authorize(req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean {
    if (token === null) return true;
    const given = url.searchParams.get('token');
    if (given !== null) {
      if (!tokensEqual(given, token)) {
        plain(res, 401, UNAUTHORIZED_TEXT);
        return false;
      }
      url.searchParams.delete('token');
      res.writeHead(303, {
        'set-cookie': setCookieHeader(token, port),
        location: url.pathname + url.search,
        'cache-control': 'no-store',
        'content-length': '0',
      });
      res.end();
      return false;
    }
    if (hasToken(req, token, port)) return true;
    plain(res, 401, UNAUTHORIZED_TEXT, { 'www-authenticate': 'Bearer realm="rerender"' });
    return false;
  }

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, body: string) => plain(res, status, body);
    if (!allowedHosts().has(req.headers.host ?? '')) return send(403, 'forbidden host');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return send(403, 'forbidden origin');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    } catch {
      return send(400, 'bad request URL');
    }
    if (!authorize(req, res, url)) return;
    try {
      decodeURIComponent(url.pathname);
    } catch {
      return send(400, 'the path is not valid percent-encoding');
    }
    if (url.pathname.startsWith('/upload/')) return handleUpload(req, res, url);
    if (url.pathname.startsWith(EXPORTS_PREFIX)) return serveExport(req, res, url, downloads);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');

    if (url.pathname.startsWith('/media/')) {
      let route: string;
      try {
        route = decodeURIComponent(url.pathname.slice('/media/'.length));
      } catch {
        return send(400, 'the media path is not valid percent-encoding');
      }
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
      const stored = await uploads.receive(req, name);
      json(201, stored);
    } catch (err) {
      // The rest of a refused body is not read: answer, then close the connection.
      if (err instanceof UploadError) return json(err.status, { code: err.code, message: err.message }, true);
      if (errorCodeOf(err) === 'ENOSPC') return json(507, { code: 'ENOSPC', message: 'The disk holding the uploads folder is full.' }, true);
      throw err;
    } finally {
      void uploads.sweep().catch((e: unknown) => console.error('upload clean-up failed:', e));
    }
  }

  // closeTimeout (in the installed ws, not yet in @types/ws): a peer that never answers our close frame is dropped after 5 s, not 30.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE, ...({ closeTimeout: 5000 } as object) });
  wss.on('error', (err) => console.error('WebSocket server error:', err));
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // A reset during the handshake must not become an uncaught 'error'.
    socket.on('error', () => socket.destroy());
    const refuse = (status: string) => socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      return refuse('400 Bad Request');
    }
    const ok = url.pathname === '/api' && allowedHosts().has(req.headers.host ?? '') && allowedOrigins().has(req.headers.origin ?? '');
    if (!ok) return refuse('403 Forbidden');
    if (token !== null && !hasToken(req, token, port)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const post = (m: ServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(encodeWire(m));
    };
    const offs = EVENTS.map((event) => apiHost.api.on(event, (payload) => post({ event, payload })));
    ws.on('close', () => offs.forEach((off) => off()));
    // A protocol error (unmasked or oversized frame, bad UTF-8, reserved bits or opcodes): ws
    // has already sent the close frame with its code; only this socket goes, never the server.
    ws.on('error', () => {
      if (ws.readyState !== ws.CLOSING && ws.readyState !== ws.CLOSED) ws.terminate();
    });
    ws.on('message', (data, isBinary) => {
      let msg: unknown;
      try {
        msg = isBinary ? null : decodeWire(String(data));
      } catch {
        // JSON with a bad `$bytes` value is a bad argument of a request we can still answer.
        const id = requestId(String(data));
        if (id !== null) return post({ id, ok: false, error: { code: 'INVALID_ARGUMENT', message: 'The request carries bytes that are not valid base64.' } });
        msg = null;
      }
      if (!isClientMessage(msg)) {
        ws.close(1003, 'malformed message');
        return;
      }
      const { id } = msg;
      apiHost.call(msg.method, msg.args).then(
        (value) => {
          if (msg.method === 'startJob') downloads.started(value);
          post({ id, ok: true, value: value ?? null });
        },
        (err: unknown) => post({ id, ok: false, error: wireError(err) }),
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, bind === 'localhost' ? '127.0.0.1' : bind, () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  const origin = `http://127.0.0.1:${port}/`;
  return {
    url: token === null ? origin : `${origin}?token=${token}`,
    origin,
    port,
    token,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsHost) await apiHost.dispose();
    },
  };
}
