// `export`: the project's frames as an MP4 at the source's exact frame rate, at the source's
// resolution (default) or the working size. Each frame is, in order of preference: its render, the
// key frame's own image, the source frame. At source resolution the picture is the source minus
// only the artist's crop: rendered (working-size) images are upsampled guided by the full-size
// source frame, which also fills the aspect-fix margin the working geometry cropped away.
import { cropScaleFilter, decodePng, encodeMp4, toRgb, workingGeometry, type Crop, type MediaTools } from '../media/index.ts';
import { DEFAULT_UPSAMPLE_METHOD, loadUpsampler, UPSAMPLE_METHODS, type UpsampleMethod, type UpsampleRect } from '../propagate/upsample.ts';
import { checkOutputTarget, type ReplacePolicy } from '../media/output.ts';
import type { Project } from '../project/index.ts';
import type { Progress } from '../jobs/progress.ts';
import { openSource } from './source.ts';
import { streamFrames, type DecodedFrame } from './frame-stream.ts';

export type ExportSize = 'source' | 'working';

export interface ExportRequest {
  outPath: string;
  /** 'source' (default): the source's pixels minus the artist's crop; 'working': the working size. */
  size?: ExportSize;
  /** How working-size images reach the source's size (default: the benchmark's pick). */
  upsample?: UpsampleMethod;
  crf?: number;
  audio?: boolean;
  /** What an existing file at `outPath` may be (default 'videos'); the project itself never. */
  replace?: ReplacePolicy;
}

export interface ExportDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  searchDirs?: readonly string[];
}

export interface ExportResult {
  out: string;
  size: ExportSize;
  /** Size of the written video (odd sizes lose their last column/row: yuv420p needs even ones). */
  width: number;
  height: number;
  frames: number;
  fromRenders: number;
  fromKeyframes: number;
  fromSource: number;
  audio: boolean;
}

export interface SourceRegion {
  /** The artist's crop, as recovered from the stored geometry (see artistCrop). */
  crop: Crop;
  /** Size of the source minus that crop: the picture a source-resolution export shows. */
  width: number;
  height: number;
  /** Where the working-size frames lie in that picture (the aspect-fix crop is outside it). */
  rendered: UpsampleRect;
}

/**
 * The artist's crop behind a stored working geometry. Projects keep only the effective crop (the
 * artist's plus the centred aspect fix), so this finds the smallest artist crop that reproduces it
 * exactly: the aspect fix only ever crops one axis, so each axis is tried with as much as possible
 * of its crop taken as aspect fix. An asymmetric artist crop on that axis cannot be undone that way
 * and stays (nothing the artist removed ever comes back); a symmetric one a few pixels wide is
 * indistinguishable from the fix and is undone with it.
 */
export function artistCrop(source: { width: number; height: number }, working: { width: number; height: number; crop: Crop; shortSide: number }): Crop {
  const eff = working.crop;
  const same = (c: Crop): boolean => {
    try {
      const g = workingGeometry(source, { shortSide: working.shortSide, crop: c });
      return g.width === working.width && g.height === working.height && g.crop.left === eff.left && g.crop.right === eff.right && g.crop.top === eff.top && g.crop.bottom === eff.bottom;
    } catch {
      return false;
    }
  };
  let best: Crop = eff;
  let bestRemoved = 0;
  for (const axis of ['x', 'y'] as const) {
    const [lo, hi] = axis === 'x' ? (['left', 'right'] as const) : (['top', 'bottom'] as const);
    const total = eff[lo] + eff[hi];
    for (let extra = total; extra > bestRemoved; extra--) {
      const c = { ...eff, [lo]: eff[lo] - Math.floor(extra / 2), [hi]: eff[hi] - (extra - Math.floor(extra / 2)) };
      if (c[lo] < 0 || c[hi] < 0) continue;
      if (same(c)) {
        best = c;
        bestRemoved = extra;
        break;
      }
    }
  }
  return best;
}

export function sourceRegion(source: { width: number; height: number }, working: { width: number; height: number; crop: Crop; shortSide: number }): SourceRegion {
  const crop = artistCrop(source, working);
  const eff = working.crop;
  return {
    crop,
    width: source.width - crop.left - crop.right,
    height: source.height - crop.top - crop.bottom,
    rendered: {
      x: eff.left - crop.left,
      y: eff.top - crop.top,
      width: source.width - eff.left - eff.right,
      height: source.height - eff.top - eff.bottom,
    },
  };
}

/** The project's file and its SQLite/lock companions: being read, so never an export's target. */
function projectFiles(project: Project): string[] {
  return ['', '-wal', '-shm', '-journal', '.lock'].map((suffix) => `${project.path}${suffix}`);
}

/**
 * Refuses (OUTPUT_EXISTS / OUTPUT_UNWRITABLE) an output path the export would not write, before
 * any work: the editor asks this first so it can offer to replace an existing file.
 */
export async function checkExportTarget(project: Project, outPath: string, replace: ReplacePolicy = 'videos'): Promise<void> {
  await checkOutputTarget(outPath, { replace, protect: projectFiles(project) });
}

export async function exportVideo(project: Project, req: ExportRequest, deps: ExportDeps): Promise<ExportResult> {
  const size: ExportSize = req.size ?? 'source';
  if (size !== 'source' && size !== 'working') throw new RangeError(`size must be 'source' or 'working' (got ${JSON.stringify(size)}).`);
  const method = req.upsample ?? DEFAULT_UPSAMPLE_METHOD;
  if (!(UPSAMPLE_METHODS as readonly string[]).includes(method)) throw new RangeError(`upsample must be one of ${UPSAMPLE_METHODS.join(', ')} (got ${JSON.stringify(method)}).`);
  // Before the source is even opened: a refused path costs nothing.
  await checkExportTarget(project, req.outPath, req.replace);
  const src = await openSource(project, deps.searchDirs);
  const { geometry, probe } = src;
  const total = probe.frameCount;
  const rendered = new Set(project.renderedFrames());
  const keyImages = new Set(project.listKeyframes(() => '').filter((k) => k.state !== 'none').map((k) => k.frame));
  let fromRenders = 0;
  let fromKeyframes = 0;
  for (let i = 0; i < total; i++) {
    if (rendered.has(i)) fromRenders++;
    else if (keyImages.has(i)) fromKeyframes++;
  }
  const fromSource = total - fromRenders - fromKeyframes;
  const audio = req.audio !== false && probe.audio.length > 0;
  const expected = { width: geometry.width, height: geometry.height };

  // At source resolution every frame needs the full-size source (as the picture or as the guide):
  // decoded with the artist's crop only, no scaling, one frame at a time.
  const region = size === 'source' ? sourceRegion(probe, project.source().working) : null;
  const upsample = region ? loadUpsampler() : null;
  const width = region ? region.width : geometry.width;
  const height = region ? region.height : geometry.height;
  const decodeGeometry = region
    ? { width, height, filter: cropScaleFilter(probe.width, probe.height, region.crop, width, height) }
    : geometry;

  // Source frames are only decoded when some frame needs one, in one sequential ffmpeg run.
  const source = region || fromSource > 0 ? streamFrames(src.path, probe, decodeGeometry, { start: 0, count: total }, { tools: deps.tools, signal: deps.signal }) : null;
  const nextSource = async (i: number): Promise<Uint8Array> => {
    let f: IteratorResult<DecodedFrame>;
    do {
      f = await source!.next();
      if (f.done) throw new Error(`the source ended before frame ${i}`);
    } while (f.value.index < i);
    return f.value.rgb;
  };
  const stored = (i: number): Uint8Array | null => {
    if (rendered.has(i)) return toRgb(decodePng(project.getRender(i)!.image, expected));
    if (keyImages.has(i)) return toRgb(decodePng(project.getKeyframe(i)!.image!, expected));
    return null;
  };

  try {
    await encodeMp4(
      {
        out: req.outPath,
        width,
        height,
        fps: probe.fps,
        frameCount: total,
        crf: req.crf,
        replace: req.replace,
        protect: projectFiles(project),
        audioFrom: audio ? { path: src.path, codec: probe.audio[0]?.codec ?? null } : null,
        frame: async (i) => {
          if (!region) return stored(i) ?? (await nextSource(i));
          const guide = await nextSource(i);
          const low = stored(i);
          if (!low) return guide;
          return upsample!(
            { data: low, width: geometry.width, height: geometry.height, channels: 3 },
            { data: guide, width, height, channels: 3 },
            { method, rect: region.rendered },
            deps.signal,
          );
        },
      },
      // Progress is what ffmpeg reports encoded (its -progress output), not what was fed to it.
      { tools: deps.tools, signal: deps.signal, onProgress: (p) => deps.onProgress?.({ stage: 'export', ...p }) },
    );
  } finally {
    await source?.close();
  }
  // yuv420p: the encoder drops an odd last column/row (see media/encode.ts).
  return { out: req.outPath, size, width: width - (width % 2), height: height - (height % 2), frames: total, fromRenders, fromKeyframes, fromSource, audio };
}
