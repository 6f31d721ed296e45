// Optical flow between neighbouring frames, cached in a folder beside the project
// (`<project>.rrproj.cache/`): it is large (2 floats per pixel per direction) and can always be
// recomputed, so it stays out of the project file, which must remain small enough to move around.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import type { FlowCache, FlowDirection } from '../propagate/flows.ts';

export function cacheDirOf(projectPath: string): string {
  return `${projectPath}.cache`;
}

export class FolderFlowCache implements FlowCache {
  readonly #dir: string;
  readonly #expected: number;

  /** `variant` names what the flow depends on (source content, size, method): a change starts a new folder. */
  constructor(projectPath: string, variant: string, width: number, height: number) {
    this.#dir = path.join(cacheDirOf(projectPath), 'flow', variant);
    this.#expected = width * height * 2;
  }

  #file(i: number, dir: FlowDirection): string {
    return path.join(this.#dir, `${i}-${dir}.f32z`);
  }

  async get(i: number, dir: FlowDirection): Promise<Float32Array | undefined> {
    let packed: Buffer;
    try {
      packed = await readFile(this.#file(i, dir));
    } catch {
      return undefined;
    }
    try {
      const raw = inflateSync(packed);
      if (raw.length !== this.#expected * 4) return undefined;
      // Copy into an aligned buffer of its own.
      return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    } catch {
      return undefined; // a damaged cache entry is recomputed
    }
  }

  async put(i: number, dir: FlowDirection, data: Float32Array): Promise<void> {
    if (data.length !== this.#expected) return;
    await mkdir(this.#dir, { recursive: true });
    const file = this.#file(i, dir);
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, deflateSync(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), { level: 1 }));
    await rename(tmp, file);
  }
}
