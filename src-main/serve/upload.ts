// Browser mode's upload: a video dropped on the page is a File without a path on the server's
// machine (which may be a remote GPU box), so it is streamed here into <dataDir>/uploads and
// the stored path is what createProject gets. Written to a temporary file first and linked into
// place only when complete, so a cut upload never leaves a half file under a real name.
import { createWriteStream } from 'node:fs';
import { link, mkdir, rm } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** A clip for this editor is seconds to minutes long; 4 GiB is generous and bounds one request. */
export const DEFAULT_MAX_UPLOAD_BYTES = 4 * 1024 ** 3;
/** All of <dataDir>/uploads together (see upload-store.ts). */
export const DEFAULT_UPLOAD_QUOTA_BYTES = 16 * 1024 ** 3;
/** Temporary names; anything matching this in the uploads folder is an upload in flight or a leftover. */
export const TEMP_UPLOAD = /^\.upload-[0-9a-f]+\.part$/;
const MAX_NAME = 120;

export interface UploadResult {
  path: string;
  name: string;
  size: number;
}

export class UploadError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * A safe file name from what the browser sent: the last path segment only, no control or
 * reserved characters, no leading dots (no hidden files, no `..`), at most 120 characters with
 * the extension kept. Empty results become `upload`.
 */
export function sanitizeUploadName(raw: string): string {
  const last = raw.split(/[\\/]/).pop() ?? '';
  let name = last
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .replace(/[^\p{L}\p{N} ._()+,=@-]/gu, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  if (name.length > MAX_NAME) {
    const ext = path.extname(name).slice(0, 16);
    name = name.slice(0, MAX_NAME - ext.length).trimEnd() + ext;
  }
  return name === '' ? 'upload' : name;
}

/** `clip.mp4`, `clip (2).mp4`, `clip (3).mp4`, … */
function candidate(name: string, n: number): string {
  if (n === 1) return name;
  const ext = path.extname(name);
  return `${name.slice(0, name.length - ext.length)} (${n})${ext}`;
}

export interface ReceiveOptions {
  maxBytes: number;
  /**
   * Asked with the declared length before anything is read, then with the bytes received so
   * far at every chunk: an error refuses the upload (the quota).
   */
  check?: (bytes: number) => UploadError | null;
  /** Told the temporary file's path before it is created, and the bytes received so far. */
  onProgress?: (tmp: string, bytes: number) => void;
}

/** Streams the request body into `dir` under a sanitized name; never overwrites an existing file. */
export async function receiveUpload(req: http.IncomingMessage, rawName: string, dir: string, opts: ReceiveOptions): Promise<UploadResult> {
  const { maxBytes } = opts;
  const declaredHeader = req.headers['content-length'];
  const declared = declaredHeader === undefined ? null : Number(declaredHeader);
  if (declared !== null && declared > maxBytes) {
    throw new UploadError(413, 'TOO_LARGE', `The file is ${declaredHeader} bytes; uploads are limited to ${maxBytes} bytes.`);
  }
  const early = declared !== null && Number.isFinite(declared) ? opts.check?.(declared) : null;
  if (early) throw early;
  const name = sanitizeUploadName(rawName);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.upload-${randomBytes(8).toString('hex')}.part`);
  let size = 0;
  opts.onProgress?.(tmp, 0);
  try {
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(tmp, { flags: 'wx' });
      const fail = (err: Error) => {
        req.unpipe(out);
        req.pause();
        out.destroy();
        reject(err);
      };
      // Counted before the file sees the chunk: past the limit, stop reading and answer 413
      // (the caller closes the connection; the rest of the body is never stored).
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        opts.onProgress?.(tmp, size);
        if (size > maxBytes) return fail(new UploadError(413, 'TOO_LARGE', `The upload passed the limit of ${maxBytes} bytes.`));
        const refused = opts.check?.(size);
        if (refused) fail(refused);
      });
      req.on('aborted', () => fail(new UploadError(400, 'ABORTED', 'The upload was cut off.')));
      req.on('error', fail);
      out.on('error', fail);
      out.on('finish', () => (req.complete ? resolve() : reject(new UploadError(400, 'ABORTED', 'The upload was cut off.'))));
      req.pipe(out);
    });
    for (let n = 1; ; n++) {
      const target = path.join(dir, candidate(name, n));
      try {
        // link() fails when the target exists, where rename() would silently replace it.
        await link(tmp, target);
        return { path: target, name: path.basename(target), size };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > 9999) throw err;
      }
    }
  } finally {
    await rm(tmp, { force: true });
  }
}
