// Shared test material: a throwaway "video" file with its real hash, a matching init, and PNG-like
// byte strings that are a deterministic function of their seed.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ProjectInit, SettingsPatch } from '../../src-main/project/index.ts';

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rrproj-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export async function hashFile(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** Writes `size` random bytes as the "video" and returns an init describing it. */
export function makeVideo(dir: string, name = 'clip.mp4', size = 4096): string {
  const file = path.join(dir, name);
  writeFileSync(file, randomBytes(size));
  return file;
}

export function initFor(video: string, frameCount = 120, settings?: SettingsPatch): ProjectInit {
  const st = statSync(video);
  return {
    source: { path: video, size: st.size, mtimeMs: st.mtimeMs, sha256: sha256File(video) },
    probe: {
      width: 1920,
      height: 1080,
      fps: { num: 30000, den: 1001 },
      frameCount,
      duration: { num: frameCount * 1001, den: 30000 },
      rotation: 0,
      audio: [{ index: 1, codec: 'aac', channels: 2, sampleRate: 48000 }],
    },
    working: { width: 910, height: 512, crop: { left: 0, right: 0, top: 0, bottom: 0 }, shortSide: 512 },
    ...(settings ? { settings } : {}),
  };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A PNG signature followed by `size` pseudo-random bytes fixed by `seed` (xorshift32). */
export function pngBytes(seed: number, size = 256): Buffer {
  const out = Buffer.alloc(8 + size);
  out.set(PNG_SIGNATURE, 0);
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[8 + i] = x & 0xff;
  }
  return out;
}
