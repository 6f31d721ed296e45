// WebGPU patch synthesis against the CPU addon: speed and parity.
//   node bench/gpu/propagate.ts [--clip ../shared/media/Megamind.avi] [--start 20] [--frames 10] [--size 512]
//        [--cpu true|false] [--temporal-init true|false]
//     a short two-key propagation (propagateVideo) on each backend: webgpu as propagateVideo picks it
//     (guides, synthesis and blend on the GPU), webgpu with the guides on the CPU (gpuGuides false),
//     and the CPU: seconds per synthesis and of guides, output frames per second, and the PSNR of
//     the GPU's outputs against the CPU's.
//   node bench/gpu/propagate.ts --synth-only [--size 512] [--runs 5] [--set '{"patchMatchIters":4}'] [--temporal-init false]
//     synthesize() alone on generated frames (no native addon needed: runs on a bare GPU machine),
//     with the propagation defaults (an interior frame starts from the carried field, over
//     temporalInitLevels levels; --temporal-init false: the whole pyramid), or those --set changes;
//     then one direction as propagation runs it on the GPU (guides too; --set-propagate '{...}'
//     changes its propagation settings), then the blend row below.
//   node bench/gpu/propagate.ts --blend-only [--size 512] [--runs 5]
//     the blend of one frame at the default settings (carried mask, fusion, de-flicker) on
//     generated inputs: ms per blend on WebGPU (gpu/blender.ts) and on the CPU (native addon, when
//     built), and how far the two outputs agree.
//   node bench/gpu/propagate.ts --quality [--size 320x256] [--clips megamind] [--styles paint] [--lengths 10]
//     the ground-truth benchmark (bench/quality) with the same three runs; the GPU must stay within
//     0.3 dB. --set '{"gpuOccupancy":"iteration"}' changes the propagation settings of the GPU runs;
//     --quality-runs webgpu,cpu-guides,cpu picks the runs.
// On a machine without a GPU set VK_ICD_FILENAMES to SwiftShader (see scripts/test-webgpu.js) and
// XDG_RUNTIME_DIR; figures there only show parity, not speed.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadBlendAddon } from '../../src-main/propagate/blend.ts';
import type { BlendAddon, BlendFrameInput } from '../../src-main/propagate/blend.ts';
import { createGpuBlender } from '../../src-main/propagate/gpu/blender.ts';
import { createGpuSynthesizer } from '../../src-main/propagate/gpu/synthesizer.ts';
import type { GpuSynthesizer } from '../../src-main/propagate/gpu/synthesizer.ts';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import type { PropagateAddon, SynthOptions } from '../../src-main/propagate/native.ts';
import { propagateVideo } from '../../src-main/propagate/propagate.ts';
import type { PropagateDeps } from '../../src-main/propagate/propagate.ts';
import type { ChosenBackend } from '../../src-main/propagate/backend.ts';
import type { PropagateOptions } from '../../src-main/propagate/settings.ts';
import { psnr } from '../../src-main/propagate/quality.ts';
import { decodeFrames } from '../quality/clips.ts';
import { applyStyle } from '../quality/styles.ts';
import { DEFAULT_SETTINGS, resolveSettings } from '../../src-main/propagate/settings.ts';
import { FrameSource, MemoryFlowCache } from '../../src-main/propagate/flows.ts';
import { GpuGuides } from '../../src-main/propagate/gpu/guides.ts';
import { propagateSequence } from '../../src-main/propagate/sequence.ts';

const { values: args } = parseArgs({
  options: {
    clip: { type: 'string', default: '../shared/media/Megamind.avi' },
    start: { type: 'string', default: '20' },
    frames: { type: 'string', default: '10' },
    size: { type: 'string' },
    cpu: { type: 'string', default: 'true' },
    'temporal-init': { type: 'string', default: 'true' },
    'synth-only': { type: 'boolean', default: false },
    'blend-only': { type: 'boolean', default: false },
    runs: { type: 'string', default: '5' },
    set: { type: 'string', default: '{}' },
    'set-propagate': { type: 'string', default: '{}' },
    'quality-runs': { type: 'string', default: 'webgpu,cpu-guides,cpu' },
    quality: { type: 'boolean', default: false },
    clips: { type: 'string', default: 'megamind' },
    styles: { type: 'string', default: 'paint' },
    lengths: { type: 'string', default: '10' },
    media: { type: 'string', default: '../shared/media' },
  },
});



/** What propagateVideo gets when it picks this GPU itself: synthesis, guides and blend there. */
function gpuEngine(g: GpuSynthesizer, cpu: PropagateAddon): { addon: PropagateAddon; backend: ChosenBackend } {
  const addon = { ...cpu, synthesize: g.synthesize };
  return { addon, backend: { addon, info: { kind: 'webgpu', device: g.device }, gpu: g, close: () => undefined } };
}

async function openGpu(): Promise<GpuSynthesizer> {
  const g = await createGpuSynthesizer();
  if ('unavailable' in g) {
    console.error(`no WebGPU: ${g.unavailable}`);
    process.exit(2);
  }
  console.log(`WebGPU device: ${g.device}`);
  return g;
}

/** synthesize() alone on a moving generated texture: a 2-channel guide pair plus the RGB style. */
async function synthOnly(g: GpuSynthesizer): Promise<void> {
  const S = Number(args.size ?? 512), runs = Number(args.runs);
  const frame = (t: number) => {
    const out = new Uint8Array(S * S * 3);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const u = x - 3 * t, v = y - 2 * t;
      for (let c = 0; c < 3; c++) out[(y * S + x) * 3 + c] = Math.round(127.5 + 127.5 * Math.sin(u * (0.05 + 0.02 * c) + Math.cos(v * 0.07) * 2 + c));
    }
    return out;
  };
  const f0 = frame(0), f1 = frame(1);
  const img = (data: Uint8Array) => ({ data, width: S, height: S, channels: 3 });
  const guides = [{ source: img(f0), target: img(f1), weight: 2 }];
  const style = img(applyStyle('posterize', f0, S, S));
  // The propagation defaults (what a propagate run passes), then --set on top.
  const d = DEFAULT_SETTINGS;
  const opts: SynthOptions = { patchSize: d.patchSize, searchVoteIters: d.searchVoteIters, patchMatchIters: d.patchMatchIters, uniformityWeight: d.uniformityWeight, stopThreshold: d.stopThreshold, stopDilate: d.stopDilate, convergence: d.convergence, voteMode: d.voteMode, occupancyRefresh: d.gpuOccupancy, ...(JSON.parse(args.set) as SynthOptions) };
  if (args['temporal-init'] !== 'false' && d.temporalInit) {
    // As propagation runs an interior frame: from the previous frame's field carried by the flow
    // (here the true motion), over temporalInitLevels levels only.
    const init = new Int32Array(S * S * 2);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      init[(y * S + x) * 2] = Math.min(S - 1, Math.max(0, x - 3));
      init[(y * S + x) * 2 + 1] = Math.min(S - 1, Math.max(0, y - 2));
    }
    opts.initNnf = init;
    opts.pyramidLevels ??= d.temporalInitLevels;
  }
  const t0 = performance.now();
  await g.synthesize(style, guides, opts);
  console.log(`first call (buffers + warm-up): ${((performance.now() - t0) / 1000).toFixed(3)} s`);
  const times: number[] = [];
  let last: Uint8Array | null = null;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await g.synthesize(style, guides, opts);
    times.push((performance.now() - t) / 1000);
    last = r.image.data as Uint8Array;
  }
  times.sort((a, b) => a - b);
  const synthS = times[Math.floor(runs / 2)] ?? 0;
  const { initNnf, ...shown } = opts;
  console.log(`synthesize ${S}x${S}, ${initNnf ? 'from a carried field' : 'from scratch'}, settings ${JSON.stringify(shown)}: median ${synthS.toFixed(3)} s, best ${(times[0] ?? 0).toFixed(3)} s over ${runs} runs; ${g.lastDispatches} dispatches, ${g.lastIterations} search-vote iterations run; PSNR vs the moved style ${psnr(last as Uint8Array, applyStyle('posterize', f1, S, S)).toFixed(2)} dB`);
  const directionS = await directionRow(g, S, runs, frame);
  const blendMs = await blendRow(g, S, runs);
  console.log(`interior frame on the GPU (two directions with their guides + the blend, flow not counted): ${(1 / (2 * directionS + blendMs / 1000)).toFixed(2)} frames/s`);
}

/**
 * One propagation direction as propagateVideo runs it on the GPU (gpu/sequence.ts: guides built
 * on the device, the state kept there), over generated frames moving (3, 2) px a frame with that
 * flow given: seconds per frame, everything but the flow's computation counted.
 */
async function directionRow(g: GpuSynthesizer, S: number, runs: number, frame: (t: number) => Uint8Array): Promise<number> {
  const frames = Array.from({ length: runs + 2 }, (_, t) => frame(t));
  const flows = new MemoryFlowCache();
  const fwd = new Float32Array(S * S * 2).map((_, i) => (i % 2 === 0 ? 3 : 2));
  const bwd = fwd.map((v) => -v);
  for (let i = 0; i + 1 < frames.length; i++) {
    flows.put(i, 'forward', fwd);
    flows.put(i, 'backward', bwd);
  }
  const noFlow = new Proxy({}, { get: () => () => { throw new Error('the bench gives every flow'); } }) as PropagateAddon;
  const guides = await GpuGuides.create(g.gpuDevice);
  try {
    const timing = { flowMs: 0, synthMs: 0, guidesMs: 0 };
    const source = new FrameSource({ addon: noFlow, width: S, height: S, sourceFrame: async (i) => frames[i] as Uint8Array, flowCache: flows, method: DEFAULT_SETTINGS.flowMethod, timing });
    const times: number[] = [];
    let last = performance.now();
    // Host CPU time of the whole process: on a real GPU, what the host spends per frame (on a
    // software adapter it includes the adapter's own threads, so it means nothing there).
    const cpu0 = process.cpuUsage();
    const loop0 = performance.eventLoopUtilization();
    await propagateSequence({
      addon: noFlow, source, key: { frame: 0, image: applyStyle('posterize', frames[0] as Uint8Array, S, S) },
      frames: Array.from({ length: runs + 1 }, (_, i) => i + 1), settings: resolveSettings(JSON.parse(args['set-propagate']) as PropagateOptions), timing,
      gpu: { synth: g, guides },
      onFrame: () => {
        const now = performance.now();
        times.push((now - last) / 1000);
        last = now;
      },
    });
    const cpu = process.cpuUsage(cpu0);
    const loop = performance.eventLoopUtilization(loop0);
    // The first frame pays for the buffers: left out.
    const steady = times.slice(1).sort((a, b) => a - b);
    const median = steady[Math.floor(steady.length / 2)] ?? 0;
    console.log(`direction on the GPU ${S}x${S} (guides + synthesis per frame, state kept on the device): median ${median.toFixed(3)} s, best ${(steady[0] ?? 0).toFixed(3)} s over ${steady.length} frames; guides recorded in ${(timing.guidesMs / times.length).toFixed(1)} ms a frame on the CPU side; host CPU ${((cpu.user + cpu.system) / 1000 / times.length).toFixed(1)} ms a frame, of it the JS thread busy ${(loop.active / times.length).toFixed(1)} ms`);
    return median;
  } finally {
    guides.destroy();
  }
}

/** Generated inputs of one interior frame's blend: two posterised views, crossing errors, a carried mask and output, a drifting flow. */
function blendInput(S: number): BlendFrameInput {
  const N = S * S;
  const view = (shift: number) => {
    const out = new Uint8Array(N * 3);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      for (let c = 0; c < 3; c++) out[(y * S + x) * 3 + c] = Math.round(127.5 + 127.5 * Math.sin((x - shift) * (0.05 + 0.02 * c) + Math.cos(y * 0.07) * 2 + c));
    }
    return applyStyle('posterize', out, S, S);
  };
  const errA = new Float32Array(N), errB = new Float32Array(N), flow = new Float32Array(N * 2), prevMask = new Uint8Array(N);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = y * S + x;
    errA[i] = 300 * (x / S) + 80 * Math.sin(y * 0.05) + 50;
    errB[i] = 300 * (1 - x / S) + 80 * Math.cos(x * 0.04 + y * 0.03) + 50;
    prevMask[i] = x > S / 2 ? 1 : 0;
    flow[2 * i] = -1.5;
    flow[2 * i + 1] = 0.5;
  }
  return { a: view(0), b: view(2), errA, errB, w: 0.5, prevMask, prevOut: view(1), flow, width: S, height: S };
}

/** ms per blend of one S x S frame at the default settings on WebGPU, and on the CPU when the addon is built. */
async function blendRow(g: GpuSynthesizer, S: number, runs: number): Promise<number> {
  const blender = await createGpuBlender(g.gpuDevice);
  const input = blendInput(S);
  const time = async (fn: () => Promise<unknown>) => {
    await fn();
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await fn();
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    return { median: ms[Math.floor(runs / 2)] ?? 0, best: ms[0] ?? 0 };
  };
  try {
    const gpu = await time(() => blender.blendFrame(input));
    let cpuText = 'cpu native: n/a (the addon is not built here)';
    let cpu: BlendAddon | null = null;
    try {
      cpu = loadBlendAddon();
    } catch { /* a bare GPU machine: GPU figures only */ }
    if (cpu) {
      const c = cpu;
      const t = await time(() => c.blendFrame(input));
      const [x, y] = [await c.blendFrame(input), await blender.blendFrame(input)];
      let same = 0;
      for (let i = 0; i < x.mask.length; i++) if (x.mask[i] === y.mask[i]) same++;
      cpuText = `cpu native median ${t.median.toFixed(1)} ms, best ${t.best.toFixed(1)} ms; GPU vs CPU output PSNR ${psnr(y.out, x.out).toFixed(2)} dB, masks agree on ${((100 * same) / x.mask.length).toFixed(2)}%`;
    }
    console.log(`blend ${S}x${S} (default settings, carried mask, de-flicker): webgpu median ${gpu.median.toFixed(1)} ms, best ${gpu.best.toFixed(1)} ms over ${runs} runs; ${cpuText}`);
    return gpu.median;
  } finally {
    blender.close();
  }
}


async function propagation(g: GpuSynthesizer): Promise<void> {
  const S = Number(args.size ?? 512);
  if (!existsSync(args.clip)) {
    console.error(`clip not found: ${args.clip} (pass --clip)`);
    process.exit(2);
  }
  const frames = decodeFrames(args.clip, Number(args.start), Number(args.frames), 1, S, S);
  const n = frames.length;
  if (n < 3) throw new Error(`only ${n} frames decoded`);
  const cpu = loadPropagateAddon();
  const keys = [0, n - 1].map((k) => ({ frame: k, image: applyStyle('posterize', frames[k] as Uint8Array, S, S) }));
  const flowCache = new MemoryFlowCache();
  const temporalInit = args['temporal-init'] !== 'false';
  const run = async (name: string, engine: Pick<PropagateDeps, 'addon' | 'backend'>, options: PropagateOptions = {}) => {
    const outputs: Uint8Array[] = [];
    const report = await propagateVideo({
      frameCount: n, width: S, height: S, ...engine, keyframes: keys, flowCache,
      sourceFrame: async (i) => frames[i] as Uint8Array,
      writeFrame: async (i, rgb) => { outputs[i] = rgb; },
    }, { temporalInit, ...options });
    const perRun = report.ms.synthesis / 1000 / Math.max(1, report.synthesisCount);
    // The stand-in style is per pixel, so stylising each source frame gives that frame's ground truth.
    const vsTruth: number[] = [];
    for (let i = 1; i < n - 1; i++) vsTruth.push(psnr(outputs[i] as Uint8Array, applyStyle('posterize', frames[i] as Uint8Array, S, S)));
    console.log(`${name}: PSNR vs the stylised source (ground truth) over interior frames: mean ${(vsTruth.reduce((a, b) => a + b, 0) / vsTruth.length).toFixed(3)} dB`);
    if (report.backend.note) console.log(`${name}: ${report.backend.note}`);
    console.log(`${name}: guides ${(report.ms.guides / 1000 / Math.max(1, report.synthesisCount)).toFixed(3)} s per synthesis`);
    console.log(`${name}: ${report.synthesisCount} syntheses, ${perRun.toFixed(3)} s each (${(1 / perRun).toFixed(2)} syntheses/s); ${(report.ms.synthesis / 1000).toFixed(1)} s synthesis for ${n - 2} interior frames = ${((n - 2) / (report.ms.synthesis / 1000)).toFixed(2)} frames/s of synthesis; whole propagation ${((n - 2) / (report.ms.total / 1000)).toFixed(2)} frames/s`);
    return outputs;
  };
  console.log(`clip ${args.clip}: ${n} frames from ${args.start} at ${S}x${S}, keys 0 and ${n - 1}, temporalInit ${temporalInit}`);
  // The GPU first: its run also fills the flow cache, so no run's time includes flow. The webgpu
  // runs blend on the GPU too, as propagateVideo does when it picks the GPU itself.
  const gpuOut = await run('webgpu', gpuEngine(g, cpu));
  await run('webgpu, guides on the CPU', gpuEngine(g, cpu), { gpuGuides: false });
  if (args.cpu === 'false') return;
  const cpuOut = await run('cpu', { addon: cpu });
  const p: number[] = [];
  for (let i = 1; i < n - 1; i++) p.push(psnr(gpuOut[i] as Uint8Array, cpuOut[i] as Uint8Array));
  console.log(`PSNR webgpu vs cpu outputs over interior frames: mean ${(p.reduce((a, b) => a + b, 0) / p.length).toFixed(2)} dB, min ${Math.min(...p).toFixed(2)} dB`);
}

async function quality(g: GpuSynthesizer): Promise<void> {
  // Imported here: the ground-truth benchmark is only needed in this mode.
  const { runQuality } = await import('../quality/quality.ts');
  const { clipByName, requireMedia } = await import('../quality/clips.ts');
  const size = /^(\d+)x(\d+)$/.exec(args.size ?? '320x256');
  if (!size) throw new RangeError(`--size must be WxH in --quality mode, got ${args.size}`);
  const clips = args.clips.split(',').map((c) => clipByName(c.trim()));
  requireMedia(args.media, clips);
  const cpu = loadPropagateAddon();
  const base = {
    mediaDir: args.media, clips, styles: args.styles.split(','), lengths: args.lengths.split(',').map(Number),
    width: Number(size[1]), height: Number(size[2]), configs: [{ name: 'ours', kind: 'propagate' as const, options: {} }],
    log: (l: string) => console.error(l),
  };
  const means: number[] = [];
  const gpuOptions = JSON.parse(args.set) as PropagateOptions;
  const wanted = new Set(args['quality-runs'].split(','));
  const runs = [
    { id: 'webgpu', name: 'webgpu', backend: gpuEngine(g, cpu).backend, options: gpuOptions },
    { id: 'cpu-guides', name: 'webgpu, guides on the CPU', backend: gpuEngine(g, cpu).backend, options: { ...gpuOptions, gpuGuides: false } },
    { id: 'cpu', name: 'cpu', options: {} },
  ].filter((r) => wanted.has(r.id));
  for (const { name, backend, options } of runs) {
    const t = performance.now();
    const r = await runQuality({ ...base, addon: cpu, ...(backend ? { backend } : {}), configs: [{ name: 'ours', kind: 'propagate' as const, options }] });
    const m = r.rows.reduce((a, row) => a + row.psnr, 0) / Math.max(1, r.rows.length);
    means.push(m);
    console.log(`${name}: mean PSNR vs ground truth ${m.toFixed(3)} dB over ${r.rows.length} segment(s) (${r.rows.map((row) => `${row.clip}/${row.style}/${row.length}: ${row.psnr.toFixed(2)}`).join(', ')}); ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  if (!wanted.has('webgpu') || !wanted.has('cpu')) return;
  const gap = (means[means.length - 1] as number) - (means[0] as number);
  console.log(`webgpu is ${gap.toFixed(3)} dB below cpu: ${gap <= 0.3 ? 'within' : 'OUTSIDE'} the 0.3 dB requirement`);
}

const g = await openGpu();
try {
  if (args['synth-only']) await synthOnly(g);
  else if (args['blend-only']) await blendRow(g, Number(args.size ?? 512), Number(args.runs));
  else if (args.quality) await quality(g);
  else await propagation(g);
} finally {
  g.close();
}
