// Malformed arguments become TypeError/RangeError with clear messages; the process survives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { propagateVideo } from '../../src-main/propagate/propagate.ts';
import { addon } from './helpers.ts';

const img = (w: number, h: number, c = 3) => ({ data: new Uint8Array(w * h * c), width: w, height: h, channels: c });

test('synthesize rejects malformed images, guides and options', async () => {
  const a = addon();
  const s = img(32, 32);
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['size mismatch', () => a.synthesize(s, [{ source: img(30, 32), target: img(32, 32), weight: 1 }]), /guides\[0\]\.source is 30x32 but the style image is 32x32/],
    ['zero size', () => a.synthesize(img(0, 32), []), /style\.width must be an integer in \[1/],
    ['too many channels', () => a.synthesize(img(32, 32, 9), []), /channels must be an integer in \[1, 8\]/],
    ['NaN weight', () => a.synthesize(s, [{ source: s, target: s, weight: NaN }]), /weight must be finite and >= 0/],
    ['negative weight', () => a.synthesize(s, [{ source: s, target: s, weight: -1 }]), /weight must be finite and >= 0/],
    ['short buffer', () => a.synthesize({ ...s, data: new Uint8Array(10) }, []), /has 10 elements, expected width\*height\*channels = 3072/],
    ['even patch', () => a.synthesize(s, [], { patchSize: 4 }), /patchSize must be odd/],
    ['NaN pixel', () => a.synthesize({ data: new Float32Array(32 * 32 * 3).fill(NaN), width: 32, height: 32, channels: 3 }, []), /non-finite/],
    ['too small for patch', () => a.synthesize(img(4, 4), []), /at least patchSize/],
    ['bad nnf', () => a.synthesize(s, [], { initNnf: new Int32Array(5) }), /initNnf must hold/],
    ['flow size', () => a.warp(s, new Float32Array(3)), /flow has 3 elements/],
    ['flow frames differ', () => a.computeFlow(img(32, 32), img(16, 32)), /differ in size/],
  ];
  for (const [name, fn, msg] of cases) {
    await assert.rejects(fn, (e: Error) => (e instanceof TypeError || e instanceof RangeError) && msg.test(e.message), name);
  }
});

test('propagateVideo rejects missing key frames and bad sizes with clear messages', async () => {
  const base = {
    frameCount: 4, width: 32, height: 32, addon: addon(),
    sourceFrame: async () => new Uint8Array(32 * 32 * 3), writeFrame: async () => {},
  };
  await assert.rejects(propagateVideo({ ...base, keyframes: [] }), /at least one key frame/);
  await assert.rejects(propagateVideo({ ...base, keyframes: [{ frame: 9, image: new Uint8Array(32 * 32 * 3) }] }), /outside 0\.\.3/);
  await assert.rejects(propagateVideo({ ...base, keyframes: [{ frame: 0, image: new Uint8Array(5) }] }), /must be 3072 RGB bytes/);
  await assert.rejects(propagateVideo({ ...base, keyframes: [{ frame: 0, image: new Uint8Array(3072), mask: new Uint8Array(3) }] }), /mask must be 1024 bytes/);
  await assert.rejects(propagateVideo({ ...base, width: 0, keyframes: [{ frame: 0, image: new Uint8Array(0) }] }), /positive integers/);
  const key = [{ frame: 0, image: new Uint8Array(3072) }];
  await assert.rejects(propagateVideo({ ...base, keyframes: key }, { weights: { colour: NaN } }), /weights\.colour must be a finite number/);
  await assert.rejects(propagateVideo({ ...base, keyframes: key }, { weights: { edge: -1 } }), /weights\.edge/);
  await assert.rejects(propagateVideo({ ...base, keyframes: key, sourceFrame: async () => new Uint8Array(7) }), /sourceFrame\(\d\) must return 3072 RGB bytes/);
});

test('a child process that feeds the addon garbage exits normally', () => {
  const script = `
    import { loadPropagateAddon } from './src-main/propagate/native.ts';
    const a = loadPropagateAddon();
    const bad = [null, 1, 'x', {}, { data: new Uint8Array(1), width: -1, height: 1e9, channels: 99 }];
    let thrown = 0;
    for (const x of bad) for (const y of bad) {
      try { await a.synthesize(x, y, x); } catch { thrown++; }
      try { await a.warp(x, y); } catch { thrown++; }
      try { await a.occlusionMask(x, y, 3, 3); } catch { thrown++; }
    }
    console.log('survived', thrown);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: process.env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /survived 75/);
});
