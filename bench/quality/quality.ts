// Ground-truth quality benchmark for propagation: every frame of a real segment is styled per
// frame (the truth), only the two end frames' truth is given as key frames, and each
// configuration's output is scored against the truth frame by frame.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encode } from 'fast-png';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import type { PropagateAddon } from '../../src-main/propagate/native.ts';
import { propagateVideo } from '../../src-main/propagate/propagate.ts';
import type { PropagateDeps } from '../../src-main/propagate/propagate.ts';
import type { ChosenBackend } from '../../src-main/propagate/backend.ts';
import type { FlowCache, FlowDirection } from '../../src-main/propagate/flows.ts';
import { resolveSettings } from '../../src-main/propagate/settings.ts';
import type { PropagateOptions } from '../../src-main/propagate/settings.ts';
import { decodeFrames } from './clips.ts';
import type { ClipSpec } from './clips.ts';
import { psnr, ssim, warpErrors } from './metrics.ts';
import type { FlowPair } from './metrics.ts';
import { applyStyle } from './styles.ts';
import { drawLabel } from './label.ts';

export interface ConfigSpec {
  name: string;
  /**
   * 'ebsynth': each interior frame from the nearer key's single-direction propagation (EbSynth's
   * two-key workflow, ties to the first key); 'propagate': propagateVideo with both keys.
   */
  kind: 'ebsynth' | 'propagate';
  options: PropagateOptions;
}

/** EbSynth's settings: our synthesis defaults, no temporally initialised search. */
export const EBSYNTH: ConfigSpec = { name: 'ebsynth', kind: 'ebsynth', options: { temporalInit: false } };

export interface QualityOptions {
  mediaDir: string;
  clips: readonly ClipSpec[];
  styles: readonly string[];
  /** Segment lengths in frames, key frames included (>= 3); those longer than a clip's shot are skipped for it. */
  lengths: readonly number[];
  width: number;
  height: number;
  configs: readonly ConfigSpec[];
  /** Side-by-side PNGs of each segment's mid frame go here. */
  outDir?: string | undefined;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  addon?: PropagateAddon;
  /** Synthesis on this backend (a GPU's, with its guides and blend there too); `addon` still computes flow and the figures. */
  backend?: ChosenBackend;
}

/** What propagateVideo runs on: the addon, or a chosen backend that overrides it. */
type Engine = Pick<PropagateDeps, 'addon' | 'backend'>;

export interface QualityRow {
  clip: string;
  style: string;
  length: number;
  config: string;
  /** Mean over interior frames, dB. */
  psnr: number;
  psnrMid: number;
  ssim: number;
  ssimMid: number;
  /** Temporal warping error (mean absolute, 0..255) of the output, all consecutive pairs. */
  warp: number;
  /** The same for the truth: a perfect method matches it. */
  truthWarp: number;
  /** Largest single-pair warp error: a seam such as EbSynth's switch between keys shows here. */
  warpMax: number;
  truthWarpMax: number;
  /** Wall seconds per interior frame (flow excluded: it is shared and computed up front). */
  secPerFrame: number;
  /** Per interior frame (1..length-2), and warp per pair (0->1 .. length-2->length-1), for plots. */
  frames: { psnr: number[]; ssim: number[]; warp: number[] };
}

export interface QualityResult {
  width: number;
  height: number;
  rows: QualityRow[];
  /** Wall seconds per frame pair for the source flow (both directions). */
  flowSecPerPair: number;
  /** PNG files written (with --out). */
  images: string[];
}

type Frames = readonly Uint8Array[];

/** Flow cache over a clip's frames, shifted by `offset` so a run can start mid-clip. */
function shiftedCache(flows: Map<string, Float32Array>, offset: number): FlowCache {
  return {
    get: (i: number, d: FlowDirection) => flows.get(`${i + offset}:${d}`),
    put: (i: number, d: FlowDirection, data: Float32Array) => { flows.set(`${i + offset}:${d}`, data); },
  };
}

async function runPropagate(engine: Engine, frames: Frames, truth: Frames, n: number, flows: Map<string, Float32Array>, width: number, height: number, options: PropagateOptions): Promise<Uint8Array[]> {
  const outputs: Uint8Array[] = new Array<Uint8Array>(n);
  await propagateVideo({
    frameCount: n, width, height, ...engine, flowCache: shiftedCache(flows, 0),
    keyframes: [{ frame: 0, image: truth[0] as Uint8Array }, { frame: n - 1, image: truth[n - 1] as Uint8Array }],
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async (i, rgb) => { outputs[i] = rgb; },
  }, options);
  return outputs;
}

async function runEbsynth(engine: Engine, frames: Frames, truth: Frames, n: number, flows: Map<string, Float32Array>, width: number, height: number, options: PropagateOptions): Promise<Uint8Array[]> {
  const outputs: Uint8Array[] = new Array<Uint8Array>(n);
  outputs[0] = truth[0] as Uint8Array;
  outputs[n - 1] = truth[n - 1] as Uint8Array;
  // Frame i goes to the first key when i <= (n-1)/2 (ties to the first), else to the last.
  const half = Math.floor((n - 1) / 2);
  // Forward from the first key over frames 0..half only (a tail), so no synthesis is wasted.
  await propagateVideo({
    frameCount: half + 1, width, height, ...engine, flowCache: shiftedCache(flows, 0),
    keyframes: [{ frame: 0, image: truth[0] as Uint8Array }],
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async (i, rgb) => { if (i > 0) outputs[i] = rgb; },
  }, options);
  // Backward from the last key over frames half+1..n-1 (a head), indices shifted by half+1.
  const off = half + 1;
  await propagateVideo({
    frameCount: n - off, width, height, ...engine, flowCache: shiftedCache(flows, off),
    keyframes: [{ frame: n - 1 - off, image: truth[n - 1] as Uint8Array }],
    sourceFrame: async (i) => frames[i + off] as Uint8Array,
    writeFrame: async (i, rgb) => { if (i + off < n - 1) outputs[i + off] = rgb; },
  }, options);
  return outputs;
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Images side by side with a label strip on top of each, as one RGB image. */
function sideBySide(images: readonly Uint8Array[], labels: readonly string[], width: number, height: number): { data: Uint8Array; width: number; height: number } {
  const strip = 14;
  const W = width * images.length;
  const H = height + strip;
  const data = new Uint8Array(W * H * 3).fill(255);
  images.forEach((im, k) => {
    for (let y = 0; y < height; y++) data.set(im.subarray(y * width * 3, (y + 1) * width * 3), ((y + strip) * W + k * width) * 3);
    drawLabel(data, W, H, k * width + 3, 2, labels[k] ?? '');
  });
  return { data, width: W, height: H };
}

export async function runQuality(o: QualityOptions): Promise<QualityResult> {
  const log = o.log ?? (() => {});
  const addon = o.addon ?? loadPropagateAddon();
  const engine: Engine = o.backend ? { addon, backend: o.backend } : { addon };
  const { width, height } = o;
  const rows: QualityRow[] = [];
  const images: string[] = [];
  let flowMs = 0;
  let flowPairs = 0;
  for (const len of o.lengths) if (!Number.isInteger(len) || len < 3) throw new RangeError(`segment lengths must be integers >= 3, got ${String(len)}`);

  for (const clip of o.clips) {
    const lengths = o.lengths.filter((n) => n <= clip.maxLength);
    const skipped = o.lengths.filter((n) => n > clip.maxLength);
    if (skipped.length) log(`[${clip.name}] skipping length ${skipped.join(', ')}: the shot holds ${clip.maxLength} frames`);
    if (lengths.length === 0) continue;
    const maxLen = Math.max(...lengths);
    log(`[${clip.name}] decoding ${maxLen} frames at ${width}x${height} (${clip.about})`);
    const frames = decodeFrames(path.join(o.mediaDir, clip.file), clip.start, maxLen, clip.stride, width, height);
    // Flows once per clip, shared by every style, length and configuration.
    const flows = new Map<string, Float32Array>();
    const pairs: FlowPair[] = [];
    const t0 = performance.now();
    for (let i = 0; i + 1 < maxLen; i++) {
      const f = await addon.computeFlow({ data: frames[i] as Uint8Array, width, height, channels: 3 }, { data: frames[i + 1] as Uint8Array, width, height, channels: 3 }, 'dis-medium');
      flows.set(`${i}:forward`, f.forward);
      flows.set(`${i}:backward`, f.backward);
      pairs.push(f);
    }
    flowMs += performance.now() - t0;
    flowPairs += maxLen - 1;
    log(`[${clip.name}] flow ${((performance.now() - t0) / 1000 / (maxLen - 1)).toFixed(2)} s per pair`);
    // A configuration with another flow method gets its own cache (filled by its first run), so
    // it never silently propagates along the DIS flows; the metrics always use DIS medium.
    const flowsByMethod = new Map<string, Map<string, Float32Array>>([['dis-medium', flows]]);
    const flowsFor = (cfg: ConfigSpec) => {
      const m = resolveSettings(cfg.options).flowMethod;
      let f = flowsByMethod.get(m);
      if (!f) flowsByMethod.set(m, f = new Map());
      return f;
    };

    for (const style of o.styles) {
      const truth = frames.map((f) => applyStyle(style, f, width, height));
      for (const n of lengths) {
        const mid = Math.floor((n - 1) / 2);
        const truthErrors = await warpErrors(addon, truth.slice(0, n), pairs, width, height);
        const truthWarp = mean(truthErrors);
        const mids: Uint8Array[] = [];
        for (const cfg of o.configs) {
          log(`[${clip.name}] ${style} length ${n}: ${cfg.name}...`);
          const t1 = performance.now();
          const out = cfg.kind === 'ebsynth'
            ? await runEbsynth(engine, frames, truth, n, flowsFor(cfg), width, height, cfg.options)
            : await runPropagate(engine, frames, truth, n, flowsFor(cfg), width, height, cfg.options);
          const secPerFrame = (performance.now() - t1) / 1000 / (n - 2);
          const ps: number[] = [];
          const ss: number[] = [];
          for (let t = 1; t < n - 1; t++) {
            ps.push(psnr(out[t] as Uint8Array, truth[t] as Uint8Array));
            ss.push(ssim(out[t] as Uint8Array, truth[t] as Uint8Array, width, height));
          }
          const we = await warpErrors(addon, out, pairs, width, height);
          const row: QualityRow = {
            clip: clip.name, style, length: n, config: cfg.name,
            psnr: mean(ps), psnrMid: ps[mid - 1] ?? NaN, ssim: mean(ss), ssimMid: ss[mid - 1] ?? NaN,
            warp: mean(we), truthWarp, warpMax: Math.max(...we), truthWarpMax: Math.max(...truthErrors), secPerFrame,
            frames: { psnr: ps, ssim: ss, warp: we },
          };
          rows.push(row);
          mids.push(out[mid] as Uint8Array);
          log(`[${clip.name}] ${style} length ${n}: ${cfg.name} PSNR ${row.psnr.toFixed(2)} SSIM ${row.ssim.toFixed(3)} warp ${row.warp.toFixed(2)} (truth ${truthWarp.toFixed(2)}) max ${row.warpMax.toFixed(2)} (${row.truthWarpMax.toFixed(2)}) ${secPerFrame.toFixed(2)} s/frame`);
        }
        if (o.outDir) {
          mkdirSync(o.outDir, { recursive: true });
          const img = sideBySide([frames[mid] as Uint8Array, truth[mid] as Uint8Array, ...mids], ['source', 'truth', ...o.configs.map((c) => c.name)], width, height);
          const file = path.join(o.outDir, `${clip.name}-${style}-${n}-mid${mid}.png`);
          writeFileSync(file, encode({ width: img.width, height: img.height, data: img.data, channels: 3, depth: 8 }));
          images.push(file);
        }
      }
    }
  }
  return { width, height, rows, flowSecPerPair: flowPairs ? flowMs / 1000 / flowPairs : 0, images };
}
