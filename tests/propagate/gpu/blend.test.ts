// WebGPU blend of one frame against the native (CPU) blend on tiny frames. Runs in the WebGPU lane
// (node scripts/test-webgpu.js tests/propagate/gpu/blend.test.ts), on SwiftShader where there is
// no GPU; the CPU lane skips them. Without an adapter they skip with the reason, except under CI=1
// in the WebGPU lane, where they fail.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBlendAddon } from '../../../src-main/propagate/blend.ts';
import type { BlendAddon, BlendFrameInput, BlendFrameResult } from '../../../src-main/propagate/blend.ts';
import { chebyshevPlan, createGpuBlender, withGpuBlend } from '../../../src-main/propagate/gpu/blender.ts';
import type { GpuBlender } from '../../../src-main/propagate/gpu/blender.ts';
import { createGpuSynthesizer } from '../../../src-main/propagate/gpu/synthesizer.ts';
import { propagateVideo } from '../../../src-main/propagate/propagate.ts';
import { chooseBackend } from '../../../src-main/propagate/backend.ts';
import { loadPropagateAddon } from '../../../src-main/propagate/native.ts';
import { resolveSettings } from '../../../src-main/propagate/settings.ts';
import { psnr } from '../../../src-main/propagate/quality.ts';
import type { PropagateOptions } from '../../../src-main/propagate/settings.ts';
import { ON_WEBGPU } from '../../helpers/provider.ts';
import { movingFrame, stylise } from '../helpers.ts';

const created = ON_WEBGPU ? await createGpuSynthesizer() : null;
const synth = created && !('unavailable' in created) ? created : null;
const gpu: GpuBlender | null = synth ? await createGpuBlender(synth.gpuDevice) : null;
const skip = gpu ? false : created && 'unavailable' in created ? `no WebGPU adapter: ${created.unavailable}` : 'WebGPU lane only';
if (!gpu && ON_WEBGPU && process.env.CI) throw new Error(`WebGPU blend tests must run under CI, but ${skip}`);
after(() => {
  gpu?.close();
  synth?.close();
});
const cpu = (): BlendAddon => loadBlendAddon();

function agreement(a: Uint8Array, b: Uint8Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * Two "propagated" views of one frame: A has hard saturated colour blocks over a smooth gradient,
 * B the same blocks 2 px to the right over a different gradient; the errors cross so that the
 * selection seam curves through blocks and gradients alike.
 */
function scene(W: number, H: number, phase: number): Omit<BlendFrameInput, 'w'> {
  const N = W * H;
  const a = new Uint8Array(N * 3), b = new Uint8Array(N * 3);
  const errA = new Float32Array(N), errB = new Float32Array(N);
  const palette = [[230, 30, 30], [250, 220, 20], [20, 40, 220], [30, 200, 60]];
  const block = (x: number, y: number) => (((Math.floor((x + phase) / 16) + Math.floor(y / 12)) % 5) + 5) % 5;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const ka = block(x, y), kb = block(x - 2, y);
      const ga = [40 + (180 * x) / W, 60 + (150 * y) / H, 200 - (120 * x) / W];
      const gb = [50 + (170 * x) / W, 50 + (160 * y) / H, 190 - (110 * y) / H];
      for (let c = 0; c < 3; c++) {
        a[3 * i + c] = Math.round(ka < 4 ? (palette[ka] as number[])[c] as number : ga[c] as number);
        b[3 * i + c] = Math.round(kb < 4 ? (palette[kb] as number[])[c] as number : gb[c] as number);
      }
      errA[i] = 200 * (x / W) + 40 * Math.sin(y * 0.3 + phase) + 60;
      errB[i] = 200 * (1 - x / W) + 40 * Math.cos(x * 0.2 + y * 0.15) + 60;
    }
  }
  return { a, b, errA, errB, width: W, height: H };
}

/** Backward flow: a fractional drift and a slight rotation, one infinite entry, and sources off the frame at the left edge. */
function flowFor(W: number, H: number): Float32Array {
  const f = new Float32Array(W * H * 2);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      f[2 * i] = -1.6 + 0.02 * (y - H / 2);
      f[2 * i + 1] = 0.35 - 0.02 * (x - W / 2);
    }
  }
  f[2 * (5 * W + 7)] = Number.POSITIVE_INFINITY;
  return f;
}

/** Frame 1 from scratch, then frame 2 carrying frame 1's (CPU) mask and output along the flow. */
async function compare(g: GpuBlender, W: number, H: number): Promise<{ results: [BlendFrameResult, BlendFrameResult][] }> {
  const c = cpu();
  const first: BlendFrameInput = { ...scene(W, H, 0), w: 0.4 };
  const r1 = [await c.blendFrame(first), await g.blendFrame(first)] as [BlendFrameResult, BlendFrameResult];
  const second: BlendFrameInput = { ...scene(W, H, 1), w: 0.55, prevMask: r1[0].mask, prevOut: r1[0].out, flow: flowFor(W, H) };
  const r2 = [await c.blendFrame(second), await g.blendFrame(second)] as [BlendFrameResult, BlendFrameResult];
  return { results: [r1, r2] };
}

for (const [W, H] of [[64, 48], [96, 64]] as const) {
  test(`default settings match the CPU blend at ${W}x${H} (first frame, then carried mask and de-flicker)`, { skip }, async () => {
    const { results } = await compare(gpu as GpuBlender, W, H);
    for (const [k, [c, r]] of results.entries()) {
      assert.equal(r.out.length, W * H * 3);
      const p = psnr(r.out, c.out), m = agreement(r.mask, c.mask);
      // The CPU solves the fusion exactly (DCT, f64); the GPU iterates in f32 to 1e-5: what remains
      // is rounding. A missed seam, a wrong boundary or colour constant costs far more than 45 dB.
      assert.ok(p >= 45, `frame ${k + 1}: PSNR GPU vs CPU ${p.toFixed(2)} dB < 45`);
      assert.ok(m >= 0.995, `frame ${k + 1}: masks agree on ${(100 * m).toFixed(2)}% of pixels`);
      // The composite is A or B per mask, so it matches wherever the masks do.
      for (let i = 0; i < W * H; i++) {
        if (r.mask[i] !== c.mask[i]) continue;
        for (let ch = 0; ch < 3; ch++) assert.equal(r.composite[3 * i + ch], c.composite[3 * i + ch]);
      }
    }
    // The scene exercises both sides and a seam, and the de-flicker changes the second frame.
    const [, [c2]] = results as [[BlendFrameResult, BlendFrameResult], [BlendFrameResult, BlendFrameResult]];
    const ones = c2.mask.reduce((n, v) => n + v, 0);
    assert.ok(ones > W * H * 0.2 && ones < W * H * 0.8, `mask is ${ones}/${W * H} B`);
  });
}

test('other covered settings match too: rgb space, no fusion, alpha mix with clipping, crossfade, mix band, box-averaged errors', { skip }, async () => {
  const g = gpu as GpuBlender;
  const c = cpu();
  const base: BlendFrameInput = { ...scene(64, 48, 2), w: 0.3, prevMask: null };
  for (const options of [
    { colorSpace: 'rgb' as const, screening: [0.05, 0.2, 0.1] },
    { poisson: false, deflicker: 0 },
    { mix: 'alpha' as const, gradClip: 20, selection: 'carry' as const },
    { selection: 'crossfade' as const },
    { selection: 'nearest' as const, mixBand: 1.5 },
    { selectionRadius: 3, mixBand: 0.8 },
    { selectionRadius: 40, selection: 'carry' as const },
  ]) {
    const input = { ...base, options };
    const [a, b] = [await c.blendFrame(input), await g.blendFrame(input)];
    const p = psnr(b.out, a.out), m = agreement(b.mask, a.mask);
    assert.ok(p >= 45 && m >= 0.995, `${JSON.stringify(options)}: PSNR ${p.toFixed(2)} dB, masks ${(100 * m).toFixed(2)}%`);
  }
});

test('is deterministic: two runs give identical bytes', { skip }, async () => {
  const g = gpu as GpuBlender;
  const input: BlendFrameInput = { ...scene(64, 48, 1), w: 0.55, prevMask: new Uint8Array(64 * 48).fill(1), prevOut: scene(64, 48, 3).a, flow: flowFor(64, 48) };
  const [x, y] = [await g.blendFrame(input), await g.blendFrame(input)];
  assert.deepEqual(Buffer.from(x.out), Buffer.from(y.out));
  assert.deepEqual(Buffer.from(x.mask), Buffer.from(y.mask));
});

test('settings it does not cover are refused on the GPU and routed to the CPU with one note', { skip }, async () => {
  const g = gpu as GpuBlender;
  const c = cpu();
  assert.equal(g.unsupported(undefined, 64, 48), null);
  assert.match(g.unsupported({ mix: 'histogram' }, 64, 48) ?? '', /histogram/);
  assert.match(g.unsupported({ screening: 0 }, 64, 48) ?? '', /screening/);
  const input: BlendFrameInput = { ...scene(64, 48, 0), w: 0.5, options: { mix: 'histogram' } };
  await assert.rejects(g.blendFrame(input), { code: 'INVALID_ARGUMENT', message: /does not cover mix 'histogram'/ });
  const notes: string[] = [];
  const routed = withGpuBlend(c, g, (l) => notes.push(l));
  const [viaCpu, direct] = [await routed.blendFrame(input), await c.blendFrame(input)];
  assert.deepEqual(Buffer.from(viaCpu.out), Buffer.from(direct.out), 'an uncovered setting must give the CPU bytes');
  await routed.blendFrame(input);
  assert.equal(notes.length, 1);
  assert.match(notes[0] as string, /^the blend runs on the CPU: .*histogram/);
  // Covered settings go to the GPU (no note).
  await routed.blendFrame({ ...input, options: {} });
  assert.equal(notes.length, 1);
  // Bad arguments fail as the CPU's do.
  await assert.rejects(g.blendFrame({ ...input, options: {}, errA: new Float32Array(3) }), { code: 'INVALID_ARGUMENT', message: /errA must hold 3072 values/ });
  await assert.rejects(g.blendFrame({ ...input, options: { selection: 'best' as 'carry' } }), { code: 'INVALID_ARGUMENT', message: /selection must be one of/ });
});

test('propagateVideo on WebGPU blends there; gpuBlend false and uncovered options blend on the CPU', { skip }, async () => {
  const W = 32, H = 24, N = 3;
  const frames = Array.from({ length: N }, (_, t) => movingFrame(t, W, H, 1, 0.5));
  const run = async (options: PropagateOptions) => {
    const out: Uint8Array[] = [];
    const report = await propagateVideo({
      frameCount: N, width: W, height: H,
      sourceFrame: async (i) => frames[i] as Uint8Array,
      keyframes: [{ frame: 0, image: stylise(frames[0] as Uint8Array) }, { frame: N - 1, image: stylise(frames[N - 1] as Uint8Array) }],
      writeFrame: async (i, rgb) => { out[i] = rgb; },
    }, { backend: 'webgpu', searchVoteIters: 1, pyramidLevels: 1, ...options });
    return { out, report };
  };
  const onGpu = await run({}), onCpu = await run({ gpuBlend: false }), uncovered = await run({ blend: { mix: 'histogram' } });
  assert.equal(onGpu.report.backend.kind, 'webgpu');
  assert.equal(onGpu.report.backend.note, undefined);
  assert.equal(onCpu.report.backend.note, undefined);
  assert.match(uncovered.report.backend.note ?? '', /^the blend runs on the CPU: the GPU blend does not cover mix 'histogram'/);
  // GPU synthesis is deterministic, so the two runs differ only by where they blended: within
  // rounding, and (f32 against f64) not byte for byte, which shows the GPU blend ran.
  let differs = false;
  for (const t of [1]) {
    const p = psnr(onGpu.out[t] as Uint8Array, onCpu.out[t] as Uint8Array);
    assert.ok(p >= 45, `frame ${t}: GPU blend vs CPU blend ${p.toFixed(2)} dB`);
    differs ||= !Buffer.from(onGpu.out[t] as Uint8Array).equals(Buffer.from(onCpu.out[t] as Uint8Array));
  }
  assert.ok(differs, 'the GPU blend was not used');
});

test('a backend the caller keeps (a farm worker\'s) blends on its GPU too, and stays open for the next job', { skip }, async () => {
  const W = 32, H = 24, N = 3;
  const frames = Array.from({ length: N }, (_, t) => movingFrame(t, W, H, 1.5, 0.5));
  const backend = await chooseBackend('webgpu', loadPropagateAddon());
  assert.equal(backend.info.kind, 'webgpu');
  try {
    const run = async (gpuBlend: boolean) => {
      const out: Uint8Array[] = [];
      const report = await propagateVideo({
        frameCount: N, width: W, height: H, backend,
        sourceFrame: async (i) => frames[i] as Uint8Array,
        keyframes: [{ frame: 0, image: stylise(frames[0] as Uint8Array) }, { frame: N - 1, image: stylise(frames[N - 1] as Uint8Array) }],
        writeFrame: async (i, rgb) => { out[i] = rgb; },
      }, { searchVoteIters: 1, pyramidLevels: 1, gpuBlend });
      return { out, report };
    };
    const first = await run(true), again = await run(true), cpuBlend = await run(false);
    assert.equal(first.report.backend.kind, 'webgpu');
    assert.ok(Buffer.from(first.out[1] as Uint8Array).equals(Buffer.from(again.out[1] as Uint8Array)), 'the kept backend gave other bytes on its second job');
    assert.ok(psnr(first.out[1] as Uint8Array, cpuBlend.out[1] as Uint8Array) >= 45);
    assert.ok(!Buffer.from(first.out[1] as Uint8Array).equals(Buffer.from(cpuBlend.out[1] as Uint8Array)), 'the GPU blend was not used with the kept backend');
  } finally {
    backend.close();
  }
});

test('chebyshevPlan: more iterations for a weaker data term; coefficients stay bounded', () => {
  const strong = chebyshevPlan([1, 1, 1], 512, 512), weak = chebyshevPlan([0.1, 0.1, 0.1], 512, 512);
  assert.ok(weak.c1.length > strong.c1.length, `${weak.c1.length} vs ${strong.c1.length}`);
  assert.ok(weak.c1.length < 80, `${weak.c1.length} iterations at lambda 0.1`);
  for (const row of weak.c2) for (const v of row) assert.ok(v > 0 && v < 1, `c2 ${v}`);
});

test('gpuBlend: on by default, checked as a boolean', () => {
  assert.equal(resolveSettings().gpuBlend, true);
  assert.equal(resolveSettings({ gpuBlend: false }).gpuBlend, false);
  assert.throws(() => resolveSettings({ gpuBlend: 'no' as unknown as boolean }), { name: 'TypeError', message: /gpuBlend must be a boolean/ });
});
