// Browser mode: the videos the services exported in this session, served back to the browser
// (the artist's browser may not be on the machine that holds the file, and "Reveal file" means
// nothing there). `GET /exports/<job id>`: only the output of a finished export job started
// through this server is served, found by its id, never by a path from the request; byte ranges
// let a <video> element seek, and `?download=1` makes it an attachment for the download link.
import { open } from 'node:fs/promises';
import path from 'node:path';
import type http from 'node:http';
import type { JobInfo } from '../api/contract.ts';

export const EXPORTS_PREFIX = '/exports/';

/**
 * The export jobs started through this server in this session. A job's output is looked up when
 * asked for (it may have finished while no browser was connected), and served only once done.
 */
export class ExportDownloads {
  readonly #ids = new Set<string>();
  readonly #jobs: () => Promise<unknown>;

  /** `jobs`: the open project's job list (the host's listJobs). */
  constructor(jobs: () => Promise<unknown>) {
    this.#jobs = jobs;
  }

  /** Called with what a startJob request answered: an export job becomes downloadable once done. */
  started(job: unknown): void {
    const j = job as Partial<JobInfo> | null;
    if (j && typeof j === 'object' && j.kind === 'export' && typeof j.id === 'string') this.#ids.add(j.id);
  }

  /** The finished export's file, or null (not started here, not finished, or not in the open project). */
  async file(id: string): Promise<string | null> {
    if (!this.#ids.has(id)) return null;
    const list = await this.#jobs().catch(() => []);
    const job = Array.isArray(list) ? (list as Partial<JobInfo>[]).find((j) => j?.id === id) : undefined;
    return job && job.kind === 'export' && job.status === 'done' && typeof job.output === 'string' ? path.resolve(job.output) : null;
  }
}

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/** One `bytes=` range of a `size`-byte file (null: no usable Range header, send it all). Multiple ranges are answered whole. */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return header.includes(',') ? null : 'unsatisfiable';
  let start: number;
  let end: number;
  if (m[1] === '') {
    // A suffix: the last N bytes.
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

const TYPES: Record<string, string> = { '.mp4': 'video/mp4', '.m4v': 'video/mp4', '.mov': 'video/quicktime', '.webm': 'video/webm', '.mkv': 'video/x-matroska' };

/** RFC 6266: an ASCII fallback and the UTF-8 name. */
export function contentDisposition(kind: 'attachment' | 'inline', file: string): string {
  const name = path.basename(file);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function plain(res: http.ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...extra });
  res.end(body);
}

/** Answers `GET|HEAD /exports/<id>[?download=1]` (the caller has checked the host, origin and token). */
export async function serveExport(req: http.IncomingMessage, res: http.ServerResponse, url: URL, downloads: ExportDownloads): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed');
  const id = url.pathname.slice(EXPORTS_PREFIX.length);
  const file = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await downloads.file(id) : null;
  if (!file) return plain(res, 404, 'No video exported in this session has that address: export again to get a link.\n');
  // Opened once and checked on the handle itself, so what is checked is what is sent.
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return plain(res, 404, `The exported video '${path.basename(file)}' is no longer there.\n`);
  let owned = true;
  try {
    const info = await handle.stat();
    if (!info.isFile()) return plain(res, 404, `'${path.basename(file)}' is no longer a video file.\n`);
    const size = info.size;
    const base: Record<string, string> = {
      'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-disposition': contentDisposition(url.searchParams.get('download') === '1' ? 'attachment' : 'inline', file),
      'accept-ranges': 'bytes',
      'cache-control': 'no-cache',
      'last-modified': info.mtime.toUTCString(),
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'same-origin',
    };
    const range = parseRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, size);
    if (range === 'unsatisfiable') return plain(res, 416, 'range not satisfiable\n', { 'content-range': `bytes */${size}` });
    const { start, end } = range ?? { start: 0, end: size - 1 };
    const headers = { ...base, 'content-length': String(size === 0 ? 0 : end - start + 1), ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) };
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) return void res.end();
    owned = false;
    const stream = handle.createReadStream({ start, end, autoClose: true });
    await new Promise<void>((resolve) => {
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
  } finally {
    if (owned) await handle.close().catch(() => undefined);
  }
}
