// Random access to source frames at the working size for stages that walk the video forwards
// and backwards (propagation): frames are decoded in aligned windows, one ffmpeg run per window,
// and the most recent windows are kept.
import type { MediaTools } from '../media/index.ts';
import type { SourceAccess } from './source.ts';
import { streamFrames } from './frame-stream.ts';

const WINDOW = 16;
const KEEP_WINDOWS = 4;

export class SourceFrames {
  readonly #src: SourceAccess;
  readonly #tools: MediaTools;
  readonly #signal: AbortSignal | undefined;
  readonly #windows = new Map<number, Promise<Uint8Array[]>>();

  constructor(src: SourceAccess, tools: MediaTools, signal?: AbortSignal) {
    this.#src = src;
    this.#tools = tools;
    this.#signal = signal;
  }

  async get(i: number): Promise<Uint8Array> {
    const n = this.#src.probe.frameCount;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`frame ${i} is outside 0..${n - 1}`);
    const start = Math.floor(i / WINDOW) * WINDOW;
    let w = this.#windows.get(start);
    if (w) {
      this.#windows.delete(start); // most recently used last
    } else {
      w = this.#decode(start, Math.min(WINDOW, n - start));
      w.catch(() => this.#windows.delete(start));
    }
    this.#windows.set(start, w);
    while (this.#windows.size > KEEP_WINDOWS) this.#windows.delete(this.#windows.keys().next().value!);
    const frames = await w;
    return frames[i - start]!;
  }

  async #decode(start: number, count: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    const { path, probe, geometry } = this.#src;
    for await (const f of streamFrames(path, probe, geometry, { start, count }, { tools: this.#tools, signal: this.#signal })) out.push(f.rgb);
    return out;
  }
}
