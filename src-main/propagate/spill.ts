// Frames of one propagation direction kept on disk until the blend needs them, so an interval of
// any length costs a few frames of memory. Files live in a private temporary folder, removed at
// the end of the run; they are never part of the project.
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SpilledFrame {
  rgb: Uint8Array;
  err: Float32Array;
}

export class SpillStore {
  readonly #dir: string;
  readonly #pixels: number;

  private constructor(dir: string, pixels: number) {
    this.#dir = dir;
    this.#pixels = pixels;
  }

  static async create(parent: string | undefined, pixels: number): Promise<SpillStore> {
    return new SpillStore(await mkdtemp(path.join(parent ?? tmpdir(), 'rerender-spill-')), pixels);
  }

  #file(t: number): string {
    return path.join(this.#dir, `${t}.bin`);
  }

  async put(t: number, rgb: Uint8Array, err: Float32Array): Promise<void> {
    if (rgb.length !== this.#pixels * 3 || err.length !== this.#pixels) throw new RangeError(`internal: spilled frame ${t} has the wrong size`);
    await writeFile(this.#file(t), Buffer.concat([rgb, new Uint8Array(err.buffer, err.byteOffset, err.byteLength)]));
  }

  async get(t: number): Promise<SpilledFrame> {
    const raw = await readFile(this.#file(t));
    const n = this.#pixels;
    if (raw.length !== n * 7) throw new Error(`internal: spilled frame ${t} is ${raw.length} bytes, expected ${n * 7}`);
    const rgb = new Uint8Array(raw.buffer, raw.byteOffset, n * 3).slice();
    // Copied out: the error floats must be 4-byte aligned.
    const err = new Float32Array(raw.buffer.slice(raw.byteOffset + n * 3, raw.byteOffset + n * 7));
    return { rgb, err };
  }

  /** Frees a frame the blend has consumed. */
  drop(t: number): void {
    unlink(this.#file(t)).catch(() => undefined);
  }

  async dispose(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }
}
