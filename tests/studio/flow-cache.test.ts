// Compact flow cache: round-trip error bound, out-of-range values, the format as first written,
// old entries, damaged entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync, zstdDecompressSync } from 'node:zlib';
import { FLOW_QUANT_ERROR, FolderFlowCache, cacheDirOf, decodeFlow as decodeEntry, encodeFlow as encodeEntry, readFlowHeader } from '../../src-main/studio/flow-cache.ts';
import { FrameSource } from '../../src-main/propagate/flows.ts';
import { loadFlowCodec } from '../../src-main/propagate/flow-codec.ts';
import type { PropagateAddon } from '../../src-main/propagate/native.ts';

const W = 64, H = 48;
const codec = loadFlowCodec();
const encodeFlow = (f: Float32Array, w: number, h: number) => encodeEntry(codec, f, w, h);
const decodeFlow = (entry: Uint8Array, w: number, h: number) => decodeEntry(codec, entry, w, h);

/** Smooth motion with a sharp-edged object and sub-pixel noise, like a real flow field. */
function field(seed: number, amp = 40): Float32Array {
  const f = new Float32Array(W * H * 2);
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) - 0.5;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inside = x > 20 && x < 40 && y > 10 && y < 30;
      f[2 * (y * W + x)] = amp * Math.sin(x / 9 + seed) + (inside ? -17.3 : 0) + rnd() * 0.3;
      f[2 * (y * W + x) + 1] = amp * 0.5 * Math.cos(y / 7) + (inside ? 6.1 : 0) + rnd() * 0.3;
    }
  }
  return f;
}

function maxError(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

test('round trip stays within the quantisation bound and is much smaller than float32', async () => {
  const f = field(3);
  const entry = await encodeFlow(f, W, H);
  const back = await decodeFlow(entry, W, H);
  assert.ok(back);
  const err = maxError(f, back);
  assert.ok(err <= FLOW_QUANT_ERROR + 1e-6, `max error ${err} > ${FLOW_QUANT_ERROR}`);
  assert.ok(err > 0, 'values off the 1/32 grid come back rounded (the test sees the quantiser)');
  assert.ok(FLOW_QUANT_ERROR <= 1 / 64);
  assert.ok(entry.length < f.byteLength / 3, `${entry.length} bytes for ${f.byteLength} of float32`);
  assert.deepEqual(readFlowHeader(entry), { width: W, height: H, scale: 32, outOfRange: 0 });
  assert.equal(await decodeFlow(entry, W + 1, H), undefined, 'another size is not accepted');
});

test('values beyond the fixed-point range are flagged and kept exactly', async () => {
  const f = field(5);
  f[10] = 5000.25; f[11] = -2000.5; f[2 * (W * H) - 1] = Number.NaN; f[300] = 1023.9; // last one fits
  const entry = await encodeFlow(f, W, H);
  assert.equal(readFlowHeader(entry)?.outOfRange, 3);
  const back = await decodeFlow(entry, W, H);
  assert.ok(back);
  assert.equal(back[10], 5000.25);
  assert.equal(back[11], -2000.5);
  assert.ok(Number.isNaN(back[2 * W * H - 1]));
  assert.ok(Math.abs((back[300] as number) - 1023.9) <= FLOW_QUANT_ERROR + 1e-4);
  const lying = Buffer.from(entry);
  lying.writeUInt32LE(0, 16); // claims no out-of-range values: the payload is then too long
  assert.equal(await decodeFlow(lying, W, H), undefined);
  for (let i = 12; i < 100; i++) assert.ok(Math.abs((back[i] as number) - (f[i] as number)) <= FLOW_QUANT_ERROR + 1e-6, `neighbour ${i}`);
});

test('damaged entries are rejected, never trusted', async () => {
  const entry = await encodeFlow(field(7), W, H);
  for (const at of [0, 4, 8, 16, 30, Math.floor(entry.length / 2), entry.length - 2]) {
    const bad = Buffer.from(entry);
    bad[at] = (bad[at] as number) ^ 0x5a;
    assert.equal(await decodeFlow(bad, W, H), undefined, `byte ${at} flipped`);
  }
  assert.equal(await decodeFlow(entry.subarray(0, entry.length - 9), W, H), undefined, 'truncated');
  assert.equal(await decodeFlow(new Uint8Array(3), W, H), undefined);
});

// The entry written by the TypeScript packer that first defined the format (before the packing
// moved into the addon), from the field below with values out of the fixed point's range and a
// NaN: cache folders written then must still read, and what is written now must be the same
// payload.
test('the format as first written: old entries read, new entries carry the same payload', async () => {
  const old = readFileSync(new URL('../fixtures/flow/format-v1.flq', import.meta.url));
  const raw = readFileSync(new URL('../fixtures/flow/format-v1.f32', import.meta.url));
  const f = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  assert.equal(f.length, W * H * 2);
  const back = await decodeFlow(old, W, H);
  assert.ok(back);
  for (let i = 0; i < f.length; i++) {
    const v = f[i] as number;
    if (Number.isNaN(v)) assert.ok(Number.isNaN(back[i]), `NaN at ${i}`);
    else if (Math.abs(v) > 1023.99) assert.equal(back[i], v, `listed value at ${i}`);
    else assert.ok(Math.abs((back[i] as number) - v) <= FLOW_QUANT_ERROR + 1e-6, `value ${i}: ${back[i]} for ${v}`);
  }
  // Ties round upward, as the first packer did: 1/64 px goes up to 1/32, -1/64 up to 0.
  const ties = new Float32Array(W * H * 2);
  ties[0] = 1 / 64; ties[1] = -1 / 64; ties[2] = -3 / 64;
  const t = await decodeFlow(await encodeFlow(ties, W, H), W, H);
  assert.deepEqual([t?.[0], t?.[1], t?.[2]], [1 / 32, 0, -1 / 32]);
  const now = await encodeFlow(f, W, H);
  assert.deepEqual(readFlowHeader(now), readFlowHeader(old));
  assert.ok(zstdDecompressSync(now.subarray(20)).equals(zstdDecompressSync(old.subarray(20))), 'the payload is byte for byte the same');
});

test('the native packer refuses malformed arguments with a clear error', async () => {
  await assert.rejects(codec.packFlow(new Float32Array(10), W, H, 5), /flow must hold width\*height\*2 = 6144 values/);
  await assert.rejects(codec.packFlow(new Uint8Array(W * H * 2) as unknown as Float32Array, W, H, 5), /flow must be a Float32Array/);
  await assert.rejects(codec.unpackFlow(new Uint8Array(8), 0, H, 5, 0), /width must be an integer/);
  assert.equal(await codec.unpackFlow(new Uint8Array(W * H * 4 + 3), W, H, 5, 0), null, 'a payload of the wrong size is refused');
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flow-cache-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('folder cache: put/get, old .f32z entries read and migrated, no temp files left', () => withDir(async (dir) => {
  const project = path.join(dir, 'p.rrproj');
  const cache = new FolderFlowCache(project, 'v1', W, H, codec);
  const f = field(11);
  await cache.put(0, 'forward', f);
  const got = await cache.get(0, 'forward');
  assert.ok(got && maxError(f, got) <= FLOW_QUANT_ERROR + 1e-6);
  assert.equal(await cache.get(0, 'backward'), undefined);

  const folder = path.join(cacheDirOf(project), 'flow', 'v1');
  const old = field(13);
  await writeFile(path.join(folder, '4-backward.f32z'), deflateSync(new Uint8Array(old.buffer)));
  assert.deepEqual(await cache.get(4, 'backward'), old, 'old entries come back exactly');
  const files = (await readdir(folder)).sort();
  assert.deepEqual(files, ['0-forward.flq', '4-backward.flq'], 'migrated to the compact format, temp files renamed away');
  const again = await cache.get(4, 'backward');
  assert.ok(again && maxError(old, again) <= FLOW_QUANT_ERROR + 1e-6);

  await writeFile(path.join(folder, '5-forward.f32z'), Buffer.from('not deflate'));
  assert.equal(await cache.get(5, 'forward'), undefined, 'a damaged old entry is recomputed');
}));

test('a damaged entry makes FrameSource recompute the flow and rewrite the entry', () => withDir(async (dir) => {
  const project = path.join(dir, 'p.rrproj');
  const cache = new FolderFlowCache(project, 'v1', W, H, codec);
  const truth = { forward: field(17), backward: field(19) };
  let computed = 0;
  const addon = { computeFlow: async () => { computed++; return { forward: truth.forward.slice(), backward: truth.backward.slice() }; } } as unknown as PropagateAddon;
  const source = () => new FrameSource({ addon, width: W, height: H, method: 'dis-medium', flowCache: cache, timing: { flowMs: 0 }, sourceFrame: async () => new Uint8Array(W * H * 3) });

  await source().pair(0);
  assert.equal(computed, 1);
  const cached = await source().pair(0);
  assert.equal(computed, 1, 'second run reads the cache');
  assert.ok(maxError(cached.forward, truth.forward) <= FLOW_QUANT_ERROR + 1e-6);

  const file = path.join(cacheDirOf(project), 'flow', 'v1', '0-forward.flq');
  const bytes = await readFile(file);
  bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 1;
  await writeFile(file, bytes);
  const redone = await source().pair(0);
  assert.equal(computed, 2, 'damaged entry recomputed');
  assert.deepEqual(redone.forward, truth.forward);
  await source().pair(0);
  assert.equal(computed, 2, 'and rewritten whole');
}));
