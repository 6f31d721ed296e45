// Propagation benchmark on a real clip: seconds per frame for each stage, peak memory, the main
// thread's busy time, and the quality figures, with and without the temporally initialised search.
// Flow goes through the project's folder cache and each output frame is PNG-encoded, as a project
// render does, so the main thread's figure counts the same host work as the product.
//   node bench/propagate/run.ts [--clip ../shared/media/Megamind.avi] [--start 20] [--frames 20] [--size 512]
//        [--threads 0] [--init both|on|off] [--flow dis-fine] [--set '<json PropagateOptions>'] [--out dir]
// RERENDER_NATIVE_ADDON=path runs another build of the addon (e.g. the previous one, with
// --set '{"patchMatchIters":6,"stopDilate":false,"convergence":0}' for the old settings).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { encode } from 'fast-png';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import type { FlowMethod } from '../../src-main/propagate/native.ts';
import { DEFAULT_SETTINGS } from '../../src-main/propagate/settings.ts';
import type { PropagateOptions } from '../../src-main/propagate/settings.ts';
import { propagateVideo } from '../../src-main/propagate/propagate.ts';
import { decodeFrames } from '../quality/clips.ts';
import { applyStyle } from '../quality/styles.ts';
import { FolderFlowCache } from '../../src-main/studio/flow-cache.ts';
import { loadFlowCodec } from '../../src-main/propagate/flow-codec.ts';
import { encodePngAsync } from '../../src-main/media/png.ts';
import { keyFramePsnr, styleFidelity, temporalConsistency } from '../../src-main/propagate/quality.ts';

const { values: args } = parseArgs({
  options: {
    clip: { type: 'string', default: '../shared/media/Megamind.avi' },
    // Megamind.avi fades in from black over its first frames; 20..39 is one shot.
    start: { type: 'string', default: '20' },
    frames: { type: 'string', default: '20' },
    size: { type: 'string', default: '512' },
    threads: { type: 'string', default: '0' },
    init: { type: 'string', default: 'both' },
    flow: { type: 'string', default: DEFAULT_SETTINGS.flowMethod },
    set: { type: 'string', default: '{}' },
    out: { type: 'string' },
  },
});
const N = Number(args.frames);
const extra = JSON.parse(args.set) as PropagateOptions;
const S = Number(args.size);
if (!existsSync(args.clip)) {
  console.error(`clip not found: ${args.clip} (pass --clip)`);
  process.exit(2);
}



const frames = decodeFrames(args.clip, Number(args.start), N, 1, S, S);
if (frames.length < 3) throw new Error(`only ${frames.length} frames decoded`);
const n = frames.length;
const addon = loadPropagateAddon();
const keys = [0, n - 1].map((k) => ({ frame: k, image: applyStyle('posterize', frames[k] as Uint8Array, S, S) }));
const scratch = mkdtempSync(path.join(os.tmpdir(), 'rr-bench-propagate-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const flowCache = new FolderFlowCache(path.join(scratch, 'bench.rrproj'), `${S}-${args.flow}`, S, S, loadFlowCodec());
/** The source's flows, filled by the first run. */
const flowPairs = () => Promise.all(Array.from({ length: n - 1 }, async (_, i) => ({ forward: await flowCache.get(i, 'forward') as Float32Array, backward: await flowCache.get(i, 'backward') as Float32Array })));

console.log(`clip ${path.basename(args.clip)}: ${n} frames from ${args.start} at ${S}x${S}, keys ${keys.map((k) => k.frame).join(', ')}, threads ${args.threads === '0' ? 'auto' : args.threads}, flow ${args.flow}, settings ${args.set}`);
const modes = args.init === 'both' ? [false, true] : [args.init === 'on'];
for (const temporalInit of modes) {
  const outputs: Uint8Array[] = [];
  // CPU time of the whole process (all threads): wall time means little on a loaded machine.
  const cpu0 = process.cpuUsage();
  const loop0 = performance.eventLoopUtilization();
  let pngBytes = 0;
  const report = await propagateVideo({
    frameCount: n, width: S, height: S, addon, keyframes: keys, flowCache,
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async (i, rgb) => { outputs[i] = rgb; pngBytes += (await encodePngAsync(rgb, S, S, 3)).length; },
  }, { ...extra, threads: Number(args.threads), temporalInit, flowMethod: args.flow as FlowMethod });
  const loop = performance.eventLoopUtilization(loop0);
  const cpu = process.cpuUsage(cpu0);
  const interior = n - 2;
  const per = (ms: number, count: number) => (ms / 1000 / Math.max(1, count)).toFixed(2);
  const flows = await flowPairs();
  const tc = await temporalConsistency(addon, { width: S, height: S, outputs, sources: frames, flows });
  const mid = Math.floor(n / 2);
  const styleMid = await styleFidelity(addon, outputs[mid] as Uint8Array, keys[0]?.image as Uint8Array, S, S);
  console.log(`\n== temporalInit ${temporalInit ? 'on' : 'off'} ==`);
  console.log(`synthesis: ${report.synthesisCount} runs, ${per(report.ms.synthesis, report.synthesisCount)} s per run; ${per(report.ms.synthesis, interior)} s per output frame (two directions)`);
  console.log(`flow: ${per(report.ms.flow, n - 1)} s per frame pair (both directions; cached after the first mode)`);
  console.log(`guides: ${per(report.ms.guides, report.synthesisCount)} s per run; blend: ${per(report.ms.blend, interior)} s per frame (wall, from its inputs to its output: it shares the cores with the A direction)`);
  console.log(`cpu: ${per((cpu.user + cpu.system) / 1000, interior)} s per interior frame (all threads, every stage)`);
  // The JS thread's busy time: the host work a GPU backend cannot hide (cache reads, encodes,
  // conversions). Synthesis, flow and blend kernels run on other threads on the CPU backend.
  console.log(`main thread: ${(loop.active / interior).toFixed(1)} ms busy per interior frame (${(loop.utilization * 100).toFixed(0)} % of the run); PNG ${(pngBytes / n / 1024).toFixed(0)} KiB per frame`);
  console.log(`total: ${(report.ms.total / 1000).toFixed(1)} s, ${per(report.ms.total, interior)} s per interior frame; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  console.log(`temporal consistency (warping PSNR, higher is steadier): output ${tc.psnr.toFixed(2)} dB, source clip ${(await temporalConsistency(addon, { width: S, height: S, outputs: frames, sources: frames, flows })).psnr.toFixed(2)} dB`);
  console.log(`key-frame fidelity: ${keys.map((k) => `${k.frame}: ${keyFramePsnr(outputs[k.frame] as Uint8Array, k.image).toFixed(1)} dB`).join(', ')}`);
  console.log(`style fidelity (mean best-patch error vs key style, lower is closer): frame ${mid} ${styleMid.toFixed(1)}; stylised key ${n - 1} (reference) ${(await styleFidelity(addon, keys[1]?.image as Uint8Array, keys[0]?.image as Uint8Array, S, S)).toFixed(1)}; raw source frame ${mid} ${(await styleFidelity(addon, frames[mid] as Uint8Array, keys[0]?.image as Uint8Array, S, S)).toFixed(1)}`);
  if (args.out) {
    const dir = path.join(args.out, temporalInit ? 'init-on' : 'init-off');
    mkdirSync(dir, { recursive: true });
    const png = (name: string, data: Uint8Array) => writeFileSync(path.join(dir, name), encode({ width: S, height: S, data, channels: 3, depth: 8 }));
    png('key-0.png', outputs[0] as Uint8Array);
    png(`blended-mid-${mid}.png`, outputs[mid] as Uint8Array);
    png(`blended-${n - 2}.png`, outputs[n - 2] as Uint8Array);
    png(`source-mid-${mid}.png`, frames[mid] as Uint8Array);
    console.log(`PNGs in ${dir}`);
  }
}
