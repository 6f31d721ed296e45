// Frames and thumbnails for the UI, by route: source frames at the working size (a slice of the
// working-size proxy once it holds the frame, else decoded on demand: cached, concurrent requests
// for one frame share a decode), key-frame images, masks and renders from the project, and the
// timeline strip. ETag/304 and byte ranges are honoured.
import { createHash } from 'node:crypto';
import { decodeFrame, encodePngAsync, thumbnailStrip, type MediaTools } from '../media/index.ts';
import { decodeJpegs } from '../media/proxy.ts';
import { assembleStrip, thumbnailFrames } from '../media/thumbnails.ts';
import type { Project } from '../project/index.ts';
import { mediaGeometryOf, probeOf } from '../studio/source.ts';
import { buildProxy, projectProxyStore, proxyKey, type ProxyStore } from '../studio/proxy.ts';

export interface MediaRequest {
  range?: string;
  ifNoneMatch?: string;
}

export interface MediaResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

export interface MediaServerDeps {
  project: () => Project;
  tools: () => Promise<MediaTools>;
  /** The PNG of source frame `frame` at the working size; tests pass their own. */
  decode?: (project: Project, frame: number, tools: () => Promise<MediaTools>) => Promise<Uint8Array>;
  /** A proxy segment was found damaged (and deleted): the proxy should be rebuilt. */
  onProxyDamaged?: () => void;
  /** Frames per proxy segment (tests); the store's default otherwise. */
  proxySegment?: number;
}

/** Decodes with ffmpeg at the project's working geometry. */
async function decodeSourcePng(project: Project, frame: number, tools: () => Promise<MediaTools>): Promise<Uint8Array> {
  const probe = probeOf(project);
  const g = mediaGeometryOf(project);
  const rgb = await decodeFrame(probe.path, probe, g, frame, { tools: await tools() });
  return encodePngAsync(rgb, g.width, g.height, 3);
}

/**
 * What a source picture belongs to: the project file, its video's content and the working
 * geometry. Two projects (or one after a crop or size change) never share an identity.
 */
export function mediaIdentity(project: Project): string {
  const { sha256, working } = project.source();
  return createHash('sha1').update(`${project.path}\n${sha256}\n${JSON.stringify(working)}`).digest('hex').slice(0, 16);
}

/** The decoded frames of one identity; replaced whole, so a late decode fills only its own. */
interface FrameSlot {
  identity: string;
  frames: Map<number, Uint8Array>;
  inflight: Map<number, Promise<Uint8Array>>;
}

const FRAME_CACHE = 48;
const STRIP_KIND = 'thumbnails';
const STRIP_KEY = 'strip-v1';
const STRIP_TILES = 40;
const STRIP_HEIGHT = 54;
const ROUTE = /^frame\/(source|keyframe|mask|render)\/(\d{1,9})\.png$/;

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex').slice(0, 20);

function notFound(message: string): MediaResponse {
  return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: new TextEncoder().encode(message) };
}

/** A 200, 206, 304 or 416 for `body` according to the request's validators and range. */
export function respond(body: Uint8Array, etag: string, req: MediaRequest, contentType = 'image/png'): MediaResponse {
  const base = { etag, 'cache-control': 'no-cache', 'accept-ranges': 'bytes', 'content-type': contentType };
  if (req.ifNoneMatch !== undefined && req.ifNoneMatch.split(',').map((s) => s.trim()).includes(etag)) {
    return { status: 304, headers: { etag, 'cache-control': 'no-cache' }, body: null };
  }
  if (req.range === undefined) return { status: 200, headers: { ...base, 'content-length': String(body.length) }, body };
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.range.trim());
  const size = body.length;
  let start: number;
  let end: number;
  if (!m || (m[1] === '' && m[2] === '')) return { status: 416, headers: { 'content-range': `bytes */${size}` }, body: null };
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return { status: 416, headers: { 'content-range': `bytes */${size}` }, body: null };
  const part = body.subarray(start, end + 1);
  return { status: 206, headers: { ...base, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(part.length) }, body: part };
}

export class MediaServer {
  readonly #deps: MediaServerDeps;
  #slot: FrameSlot | null = null;
  #proxy: ProxyStore | null = null;
  /** Bumped by each reset (each open), so URLs carrying `rev` change even on reopening a project. */
  #generation = 0;

  constructor(deps: MediaServerDeps) {
    this.#deps = deps;
  }

  /** Forget cached frames (another project was opened); decodes still running keep to the old slot. */
  reset(): void {
    this.#slot = null;
    this.#proxy = null;
    this.#generation++;
  }

  /** A version for `project`'s media URLs: the browser must never reuse another project's image. */
  rev(project: Project): string {
    return `${mediaIdentity(project)}.${this.#generation}`;
  }

  hasStrip(): boolean {
    return this.#deps.project().getCache(STRIP_KIND, STRIP_KEY) !== null;
  }

  /** Makes the timeline strip: from the proxy when it is complete (no video decoding), else from the video in one pass. */
  async buildStrip(signal: AbortSignal, onProgress: (done: number, total: number) => void): Promise<void> {
    const project = this.#deps.project();
    const probe = probeOf(project);
    const count = Math.min(STRIP_TILES, probe.frameCount);
    const store = this.#proxyFor(project);
    const strip = (await store.complete())
      ? await this.#stripFromProxy(project, store, count, signal)
      : await thumbnailStrip(probe.path, probe, { count, height: STRIP_HEIGHT }, {
        tools: await this.#deps.tools(),
        signal,
        onProgress: (p) => onProgress(p.done, p.total),
      });
    onProgress(strip.frames.length, strip.frames.length);
    project.putCache(STRIP_KIND, STRIP_KEY, strip.png, { frames: strip.frames, tileWidth: strip.tileWidth, width: strip.width, height: strip.height });
  }

  /** Whether the open project's proxy holds every frame. */
  hasProxy(): Promise<boolean> {
    return this.#proxyFor(this.#deps.project()).complete();
  }

  /** Makes (or finishes) the open project's working-size proxy; frames are served from it as its segments land. */
  async buildProxy(signal: AbortSignal, onProgress: (done: number, total: number) => void): Promise<void> {
    const project = this.#deps.project();
    const probe = probeOf(project);
    await buildProxy(this.#proxyFor(project), { file: probe.path, probe, geometry: mediaGeometryOf(project) }, {
      tools: await this.#deps.tools(),
      signal,
      onProgress,
    });
  }

  async #stripFromProxy(project: Project, store: ProxyStore, count: number, signal: AbortSignal) {
    const frames = thumbnailFrames(project.frameCount, count);
    const jpegs = await Promise.all(frames.map((f) => store.read(f)));
    if (jpegs.some((j) => j === null)) throw new Error('The fast preview lost frames while the thumbnails were made from it.');
    const { width, height } = project.source().working;
    const tileWidth = Math.max(1, Math.round((width * STRIP_HEIGHT) / height));
    const tiles = await decodeJpegs(jpegs as Uint8Array[], { width: tileWidth, height: STRIP_HEIGHT }, { tools: await this.#deps.tools(), signal });
    return assembleStrip(tiles, tileWidth, STRIP_HEIGHT, frames);
  }

  async handle(route: string, req: MediaRequest): Promise<MediaResponse> {
    const project = this.#deps.project();
    if (route === 'thumbnails.png') {
      const strip = project.getCache(STRIP_KIND, STRIP_KEY);
      return strip ? respond(strip.data, `"t-${sha1(strip.data)}"`, req) : notFound('The thumbnail strip is still being made.');
    }
    if (route === 'thumbnails.json') {
      const strip = project.getCache(STRIP_KIND, STRIP_KEY);
      if (!strip) return notFound('The thumbnail strip is still being made.');
      const body = new TextEncoder().encode(JSON.stringify(strip.meta));
      return respond(body, `"tj-${sha1(body)}"`, req, 'application/json');
    }
    const m = ROUTE.exec(route);
    if (!m) return notFound(`No media at '${route}'.`);
    const kind = m[1]!;
    const frame = Number(m[2]);
    if (frame >= project.frameCount) return notFound(`Frame ${frame} is past the end (frames 0–${project.frameCount - 1}).`);
    if (kind === 'source') {
      const { sha256, working } = project.source();
      // The tags are known without decoding, so revalidation costs nothing. A picture from either
      // path is the same frame at the same geometry (the proxy's within JPEG's error), so a tag
      // of either revalidates.
      const etag = `"s-${sha256.slice(0, 16)}-${working.width}x${working.height}-${frame}"`;
      const store = this.#proxyFor(project);
      const proxyTag = `"sp-${store.key}-${frame}"`;
      const tags = req.ifNoneMatch?.split(',').map((s) => s.trim()) ?? [];
      if (tags.includes(etag)) return respond(new Uint8Array(), etag, req);
      if (tags.includes(proxyTag)) return respond(new Uint8Array(), proxyTag, req);
      // The fast path: a slice of the proxy, no decoding (the route's name predates it; the
      // Content-Type says which format came).
      const jpeg = await store.read(frame);
      if (jpeg) return respond(jpeg, proxyTag, req, 'image/jpeg');
      return respond(await this.#sourceFrame(project, frame), etag, req);
    }
    const kf = kind === 'render' ? null : project.getKeyframe(frame);
    const bytes = (kind === 'render' ? project.getRender(frame)?.image : kind === 'keyframe' ? kf?.image : kf?.mask) ?? null;
    if (!bytes) return notFound(`Frame ${frame} has no ${kind === 'render' ? 'render' : kind === 'keyframe' ? 'key-frame image' : 'mask'}.`);
    return respond(bytes, `"${kind[0]}-${sha1(bytes)}"`, req);
  }

  /** The proxy of `project`'s current identity (a changed source or geometry gets a new store). */
  #proxyFor(project: Project): ProxyStore {
    const key = proxyKey(project);
    if (this.#proxy?.key !== key || this.#proxy.frameCount !== project.frameCount || !this.#proxy.root.startsWith(`${project.path}.`)) {
      this.#proxy = projectProxyStore(project, {
        ...(this.#deps.proxySegment ? { segment: this.#deps.proxySegment } : {}),
        onDamaged: () => this.#deps.onProxyDamaged?.(),
      });
    }
    return this.#proxy;
  }

  #slotFor(project: Project): FrameSlot {
    const identity = mediaIdentity(project);
    if (this.#slot?.identity !== identity) this.#slot = { identity, frames: new Map(), inflight: new Map() };
    return this.#slot;
  }

  #sourceFrame(project: Project, frame: number): Promise<Uint8Array> {
    const slot = this.#slotFor(project);
    const cached = slot.frames.get(frame);
    if (cached) {
      // Refresh its place in the LRU order.
      slot.frames.delete(frame);
      slot.frames.set(frame, cached);
      return Promise.resolve(cached);
    }
    let pending = slot.inflight.get(frame);
    if (!pending) {
      const decode = this.#deps.decode ?? decodeSourcePng;
      const started: Promise<Uint8Array> = decode(project, frame, this.#deps.tools).then((png) => {
        // Into the slot it was started for: after a reset that slot is unreachable.
        slot.frames.set(frame, png);
        while (slot.frames.size > FRAME_CACHE) slot.frames.delete(slot.frames.keys().next().value!);
        return png;
      });
      const entry: Promise<Uint8Array> = started.finally(() => {
        // Only its own entry: a newer request for this frame may have replaced it.
        if (slot.inflight.get(frame) === entry) slot.inflight.delete(frame);
      });
      slot.inflight.set(frame, entry);
      pending = entry;
    }
    return pending;
  }
}
