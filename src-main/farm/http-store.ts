// The HTTP artifact store, for workers with no shared disk: the owner serves its store folder
// (`farm watch --serve-port`), and workers read inputs and write renders over HTTP with the
// browser mode's kind of token (Authorization: Bearer). Artifacts stay content-addressed: the
// server refuses a body that does not hash to its name, and the client checks what it reads.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { generateToken, hasToken, validToken } from '../serve/auth.ts';
import { hashingStream, sha256, SHA256_RE, streamToFile } from './artifacts.ts';
import type { FileArtifactStore, FolderArtifactStore } from './artifacts.ts';
import { FarmError } from './errors.ts';

/** Largest artifact accepted (a 16k × 16k RGB frame, compressed, fits well within it). */
const MAX_BODY = 1024 * 1024 * 1024;

export { generateToken, validToken };

export interface ServedStore {
  /** http://host:port as bound. */
  url: string;
  close(): Promise<void>;
}

export async function serveArtifacts(store: FolderArtifactStore, opts: { token: string; port: number; host?: string }): Promise<ServedStore> {
  if (!validToken(opts.token)) throw new FarmError('INVALID_ARGUMENT', 'the artifact token must be at least 22 letters, digits, - or _');
  const server = http.createServer((req, res) => {
    const send = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text + '\n');
    };
    void (async () => {
      const port = (server.address() as AddressInfo).port;
      if (!hasToken(req, opts.token, port)) return send(401, 'an artifact store token is needed (Authorization: Bearer …)');
      const m = /^\/artifacts\/([0-9a-f]{64})$/.exec(req.url ?? '');
      if (!m) return send(404, 'not an artifact');
      const hash = m[1]!;
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (!(await store.has(hash))) return send(404, 'no such artifact');
        // Streamed from disk (a source video can be gigabytes); the client checks the hash.
        const file = store.fileOf(hash);
        const { size } = await stat(file);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
        if (req.method === 'HEAD') return void res.end();
        await pipeline(createReadStream(file), res);
        return;
      }
      if (req.method === 'PUT') {
        // Streamed into the store's folder, hashed on the way: a body that does not hash to its
        // name is refused and never stored.
        try {
          await store.putStream(req, hash, undefined, MAX_BODY);
        } catch (err) {
          if (err instanceof FarmError && err.code === 'ARTIFACT_CORRUPT') return send(400, 'the body does not hash to the artifact name');
          if (err instanceof FarmError && err.code === 'INVALID_ARGUMENT') return send(413, 'artifact too large');
          throw err;
        }
        return send(201, 'stored');
      }
      send(405, 'GET, HEAD or PUT');
    })().catch((err: unknown) => {
      if (!res.headersSent) send(500, err instanceof FarmError ? err.message : 'artifact store error');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** A worker's client for a served store. Only built for URLs the worker allows (see acceptStore). */
export class HttpArtifactStore implements FileArtifactStore {
  readonly base: string;
  readonly #token: string;

  constructor(base: string, token: string) {
    this.base = base.replace(/\/+$/, '');
    this.#token = token;
  }

  #url(hash: string): string {
    if (!SHA256_RE.test(hash)) throw new FarmError('INVALID_ARGUMENT', `not an artifact hash: '${hash.slice(0, 80)}'`);
    return `${this.base}/artifacts/${hash}`;
  }

  async #request(method: string, hash: string, body?: Uint8Array | ReadableStream<Uint8Array>, opts: { signal?: AbortSignal; whole?: boolean } = {}): Promise<Response> {
    const { signal } = opts;
    try {
      // A whole file streamed (a video) may take longer than one frame's two minutes.
      const timeout = AbortSignal.timeout(opts.whole ? 3_600_000 : 120_000);
      return await fetch(this.#url(hash), {
        method,
        headers: { authorization: `Bearer ${this.#token}` },
        ...(body ? { body } : {}),
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new FarmError('ARTIFACT_MISSING', `the artifact store ${this.base} cannot be reached: ${(err as Error).message}`);
    }
  }

  async has(hash: string): Promise<boolean> {
    return (await this.#request('HEAD', hash)).status === 200;
  }

  async get(hash: string): Promise<Uint8Array> {
    const r = await this.#request('GET', hash);
    if (r.status === 404) throw new FarmError('ARTIFACT_MISSING', `artifact ${hash.slice(0, 12)}… is not in the store ${this.base}`);
    if (r.status !== 200) throw new FarmError('ARTIFACT_MISSING', `the artifact store ${this.base} answered ${r.status}: ${(await r.text()).trim()}`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    if (sha256(bytes) !== hash) throw new FarmError('ARTIFACT_CORRUPT', `artifact ${hash.slice(0, 12)}… from ${this.base} does not match its hash`);
    return bytes;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes);
    const r = await this.#request('PUT', hash, bytes);
    if (r.status !== 201) throw new FarmError('ARTIFACT_MISSING', `the artifact store ${this.base} refused a render (${r.status}): ${(await r.text()).trim()}`);
    return hash;
  }

  /** Uploads a file as a stream: read once to hash it (its name), then once to send it. */
  async putFile(file: string, signal?: AbortSignal): Promise<string> {
    const h = createHash('sha256');
    await pipeline(createReadStream(file), hashingStream(h), async (chunks: AsyncIterable<unknown>) => {
      for await (const _ of chunks) void _;
    }, ...(signal ? [{ signal }] : []));
    const hash = h.digest('hex');
    if (await this.has(hash)) return hash;
    const body = Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>;
    const r = await this.#request('PUT', hash, body, { whole: true, ...(signal ? { signal } : {}) });
    if (r.status !== 201) throw new FarmError('ARTIFACT_MISSING', `the artifact store ${this.base} refused a file (${r.status}): ${(await r.text()).trim()}`);
    return hash;
  }

  /** Downloads an artifact as a stream into `dest` (through a temporary file), checked against its hash. */
  async getToFile(hash: string, dest: string, signal?: AbortSignal): Promise<void> {
    const r = await this.#request('GET', hash, undefined, { whole: true, ...(signal ? { signal } : {}) });
    if (r.status === 404) throw new FarmError('ARTIFACT_MISSING', `artifact ${hash.slice(0, 12)}… is not in the store ${this.base}`);
    if (r.status !== 200 || !r.body) throw new FarmError('ARTIFACT_MISSING', `the artifact store ${this.base} answered ${r.status}: ${(await r.text()).trim()}`);
    await streamToFile(Readable.fromWeb(r.body as WebReadableStream<Uint8Array>), dest, (h) => {
      if (h !== hash) throw new FarmError('ARTIFACT_CORRUPT', `artifact ${hash.slice(0, 12)}… from ${this.base} does not match its hash`);
    }, signal);
  }
}

/** True when `url` is `base` or under it (same origin, path prefix at a segment boundary). */
export function urlUnder(url: string, base: string): boolean {
  let u: URL, b: URL;
  try {
    u = new URL(url);
    b = new URL(base);
  } catch {
    return false;
  }
  if (u.origin !== b.origin || u.search || u.hash || u.username || u.password) return false;
  const bp = b.pathname.replace(/\/+$/, '');
  const up = u.pathname.replace(/\/+$/, '');
  return up === bp || up.startsWith(bp + '/');
}
