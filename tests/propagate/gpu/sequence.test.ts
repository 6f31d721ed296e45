// A propagation direction kept on the GPU (gpu/sequence.ts: guides built there, state never read
// back) against the same GPU synthesis fed by the CPU's guides. Runs in the WebGPU lane
// (node scripts/test-webgpu.js tests/propagate/gpu/sequence.test.ts), on SwiftShader where there
// is no GPU; without an adapter the tests skip with the reason, except under CI=1 in that lane.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBackend } from '../../../src-main/propagate/backend.ts';
import type { ChosenBackend } from '../../../src-main/propagate/backend.ts';
import { loadPropagateAddon } from '../../../src-main/propagate/native.ts';
import type { PropagateAddon } from '../../../src-main/propagate/native.ts';
import { propagateVideo } from '../../../src-main/propagate/propagate.ts';
import type { PropagateReport } from '../../../src-main/propagate/propagate.ts';
import { resolveSettings } from '../../../src-main/propagate/settings.ts';
import { psnr } from '../../../src-main/propagate/quality.ts';
import type { PropagateOptions } from '../../../src-main/propagate/settings.ts';
import type { KeyFrame } from '../../../src-main/propagate/sequence.ts';
import { ON_WEBGPU } from '../../helpers/provider.ts';
import { movingFrame, stylise } from '../helpers.ts';

const cpu = ON_WEBGPU ? loadPropagateAddon() : null;
let backend: ChosenBackend | null = null;
let why = 'WebGPU lane only';
if (cpu) {
  try {
    backend = await chooseBackend('webgpu', cpu);
  } catch (err) {
    why = `no WebGPU adapter: ${(err as Error).message}`;
  }
}
const skip = backend ? false : why;
/** SwiftShader, CI's adapter: f32 arithmetic as the C++ does it, so outputs can be compared byte for byte. */
const software = backend?.gpu?.software === true;
if (!backend && ON_WEBGPU && process.env.CI) throw new Error(`WebGPU sequence tests must run under CI, but ${why}`);
after(() => backend?.close());

const W = 40, H = 32, N = 6;
const frames = Array.from({ length: N }, (_, t) => movingFrame(t, W, H, 1.5, 0.75, 0.02));

/** The CPU addon with a count of the guide calls it serves, to see which side built the guides. */
function counted(base: PropagateAddon): { addon: PropagateAddon; calls: { n: number } } {
  const calls = { n: 0 };
  const wrap = <F extends (...a: never[]) => unknown>(f: F): F => ((...a: Parameters<F>) => {
    calls.n++;
    return f(...a);
  }) as F;
  return {
    calls,
    addon: { ...base, edgeGuide: wrap(base.edgeGuide), warp: wrap(base.warp), fillHoles: wrap(base.fillHoles), occlusionMask: wrap(base.occlusionMask), advectNnf: wrap(base.advectNnf) },
  };
}

async function run(keyframes: KeyFrame[], options: PropagateOptions): Promise<{ out: Uint8Array[]; report: PropagateReport; guideCalls: number }> {
  const b = backend as ChosenBackend;
  const { addon, calls } = counted(cpu as PropagateAddon);
  const out: Uint8Array[] = [];
  const report = await propagateVideo({
    frameCount: N, width: W, height: H, keyframes,
    backend: { ...b, addon: { ...addon, synthesize: b.addon.synthesize } },
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async (i, rgb) => { out[i] = rgb; },
  }, { searchVoteIters: 3, pyramidLevels: 2, temporalInitLevels: 1, gpuBlend: false, ...options });
  return { out, report, guideCalls: calls.n };
}

/**
 * Identical synthesis kernels and seeds, and guide kernels that follow the C++ term by term in
 * f32: on SwiftShader the bytes are equal (a nearest-sample positional warp gave 41-51 dB, an
 * unfilled temporal guide 59-60 dB). A hardware GPU's fused multiply-adds may move a rounding.
 */
function assertSameOutput(gpuOut: Uint8Array[], cpuOut: Uint8Array[], frameList: number[]): void {
  for (const t of frameList) {
    const g = gpuOut[t] as Uint8Array, c = cpuOut[t] as Uint8Array;
    if (software) assert.ok(Buffer.from(g).equals(Buffer.from(c)), `frame ${t}: GPU-built guides gave other bytes (${psnr(g, c).toFixed(2)} dB)`);
    else assert.ok(psnr(g, c) >= 55, `frame ${t}: GPU-built guides vs CPU-built ${psnr(g, c).toFixed(2)} dB`);
  }
}

const keys: KeyFrame[] = [{ frame: 0, image: stylise(frames[0] as Uint8Array) }, { frame: N - 1, image: stylise(frames[N - 1] as Uint8Array) }];

test('guides built on the GPU give the CPU-built guides\' output (the same bytes on SwiftShader), and none is built on the CPU', { skip }, async () => {
  const onGpu = await run(keys, {}), onCpu = await run(keys, { gpuGuides: false });
  assert.equal(onGpu.report.backend.kind, 'webgpu');
  assert.equal(onGpu.report.backend.note, undefined);
  assert.equal(onGpu.guideCalls, 0, 'a guide was built on the CPU');
  assert.ok(onCpu.guideCalls > 0, 'gpuGuides false must build the guides on the CPU');
  assertSameOutput(onGpu.out, onCpu.out, [1, 2, 3, 4]);
  // Both stay as close to the moving style as each other.
  const truth = (t: number) => stylise(frames[t] as Uint8Array);
  const mean = (o: Uint8Array[]) => [1, 2, 3, 4].reduce((s, t) => s + psnr(o[t] as Uint8Array, truth(t)), 0) / 4;
  assert.ok(Math.abs(mean(onGpu.out) - mean(onCpu.out)) < 0.5, `vs the stylised frames: GPU guides ${mean(onGpu.out).toFixed(2)}, CPU guides ${mean(onCpu.out).toFixed(2)} dB`);
});

test('any set of guides: edge and positional alone (no colour, no temporal guide) also match', { skip }, async () => {
  const weights = { colour: 0, temporal: 0 };
  const onGpu = await run(keys, { weights }), onCpu = await run(keys, { weights, gpuGuides: false });
  assert.equal(onGpu.guideCalls, 0);
  assertSameOutput(onGpu.out, onCpu.out, [1, 2, 3, 4]);
});

test('a painted key mask is carried on the GPU as on the CPU', { skip }, async () => {
  const mask = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) mask[y * W + x] = x > 12 && x < 30 && y > 6 && y < 26 ? 255 : 0;
  const one: KeyFrame[] = [{ ...keys[0] as KeyFrame, mask }];
  const onGpu = await run(one, { temporalInit: false, maskFeather: 0 }), onCpu = await run(one, { temporalInit: false, maskFeather: 0, gpuGuides: false });
  assert.equal(onGpu.guideCalls, 0);
  assertSameOutput(onGpu.out, onCpu.out, [1, 2, 3, 4, 5]);
  for (let t = 1; t < N; t++) {
    const g = onGpu.out[t] as Uint8Array;
    // Outside the carried mask (no feather) the output is the source frame.
    for (const [x, y] of [[1, 1], [W - 2, 1], [1, H - 2]] as const) {
      for (let k = 0; k < 3; k++) {
        const i = (y * W + x) * 3 + k;
        assert.equal(g[i], (frames[t] as Uint8Array)[i], `frame ${t} (${x}, ${y}): not the source outside the mask`);
      }
    }
  }
});

test('an abort stops a GPU direction between frames', { skip }, async () => {
  const ac = new AbortController();
  let written = 0;
  const b = backend as ChosenBackend;
  await assert.rejects(propagateVideo({
    frameCount: N, width: W, height: H, keyframes: [keys[0] as KeyFrame], backend: b,
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async () => {
      if (++written === 2) ac.abort();
    },
    signal: ac.signal,
  }, { searchVoteIters: 2, pyramidLevels: 1 }), { name: 'AbortError' });
  assert.ok(written <= 3, `${written} frames written after the abort`);
});

test('the GPU never waits for the host: a frame\'s work is queued before the previous frame is handed on', { skip }, async () => {
  const b = backend as ChosenBackend;
  const synth = b.gpu as NonNullable<ChosenBackend['gpu']>;
  let submitted = 0;
  // The synthesizer itself, with its calls counted once their work is queued.
  const spy = Object.create(synth, {
    synthesizeOnDevice: {
      value: async (...a: Parameters<typeof synth.synthesizeOnDevice>) => {
        const r = await synth.synthesizeOnDevice(...a);
        submitted++;
        return r;
      },
    },
  }) as typeof synth;
  const queuedAtWrite: number[] = [];
  const out: Uint8Array[] = [];
  await propagateVideo({
    frameCount: N, width: W, height: H, keyframes: [keys[0] as KeyFrame], backend: { ...b, gpu: spy },
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async (i, rgb) => {
      out[i] = rgb;
      queuedAtWrite[i] = submitted;
    },
  }, { searchVoteIters: 2, pyramidLevels: 1 });
  assert.equal(submitted, N - 1);
  // Frame t is the t-th synthesis; by the time it is written, frame t + 1's is queued too.
  for (let t = 1; t < N - 1; t++) assert.ok((queuedAtWrite[t] as number) >= t + 1, `frame ${t} was written when only ${queuedAtWrite[t]} syntheses were queued`);
  assert.equal(queuedAtWrite[N - 1], N - 1);
  for (let t = 1; t < N; t++) assert.ok(out[t] instanceof Uint8Array, `frame ${t} was not written`);
});

test('gpuGuides and gpuOccupancy: defaults, checked', () => {
  assert.equal(resolveSettings().gpuGuides, true);
  assert.equal(resolveSettings({ gpuGuides: false }).gpuGuides, false);
  assert.equal(resolveSettings().gpuOccupancy, 'iteration');
  assert.throws(() => resolveSettings({ gpuGuides: 1 as unknown as boolean }), { name: 'TypeError', message: /gpuGuides must be a boolean/ });
  assert.throws(() => resolveSettings({ gpuOccupancy: 'frame' as 'pass' }), { name: 'RangeError', message: /gpuOccupancy must be 'pass' or 'iteration'/ });
});

test('a GPU lost mid-run hands the rest to the CPU with a note; a GPU asked for by name fails instead', { skip }, async () => {
  const cpuOnly: Uint8Array[] = [];
  await propagateVideo({
    frameCount: N, width: W, height: H, keyframes: keys, addon: cpu as PropagateAddon,
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async (i, rgb) => { cpuOnly[i] = rgb; },
  }, { searchVoteIters: 3, pyramidLevels: 2, temporalInitLevels: 1 });
  const lose = async (options: PropagateOptions) => {
    // A backend of its own: losing its device must not touch the other tests' one.
    const doomed = await chooseBackend('webgpu', cpu as PropagateAddon);
    const out: Uint8Array[] = [];
    let writes = 0;
    try {
      const report = await propagateVideo({
        frameCount: N, width: W, height: H, keyframes: keys, backend: doomed,
        sourceFrame: async (i) => frames[i] as Uint8Array,
        writeFrame: async (i, rgb) => {
          out[i] = rgb;
          // The first key frame and the first blended frame are written; then the device goes,
          // as in a driver reset, in the middle of the interval.
          if (++writes === 2) doomed.gpu?.gpuDevice.destroy();
        },
      }, { searchVoteIters: 3, pyramidLevels: 2, temporalInitLevels: 1, ...options });
      return { out, report };
    } finally {
      doomed.close();
    }
  };
  const { out, report } = await lose({});
  assert.equal(report.backend.kind, 'cpu');
  assert.equal(report.framesWritten, N, 'the redone segment counts its frames once');
  assert.match(report.backend.note ?? '', /the GPU device was lost \(destroyed\).*the rest of the run is on the CPU/);
  for (let t = 0; t < N; t++) assert.ok(Buffer.from(out[t] as Uint8Array).equals(Buffer.from(cpuOnly[t] as Uint8Array)), `frame ${t} is not the CPU's`);
  await assert.rejects(lose({ backend: 'webgpu' }), (err: Error & { code?: string }) => /lost/.test(err.message));
});
