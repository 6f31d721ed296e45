// The export itself, apart from where its frames come from: a local export reads them from the
// project (export.ts), a farm worker from content-addressed artifacts (farm/export-job.ts). Both
// run this same code, so both write the same video from the same frames.
// Each frame is, in order of preference: its render, the key frame's own image, the source frame.
// At source resolution the picture is the source minus only the artist's crop: working-size images
// are upsampled guided by the full-size source frame, which also fills the aspect-fix margin the
// working geometry cropped away.
import { cropScaleFilter, decodePng, encodeMp4, toRgb, workingGeometry, type Crop, type MediaTools, type Rational } from '../media/index.ts';
import type { ReplacePolicy } from '../media/output.ts';
import { DEFAULT_UPSAMPLE_METHOD, loadUpsampler, UPSAMPLE_METHODS, type UpsampleMethod, type UpsampleRect } from '../propagate/upsample.ts';
import type { Progress } from '../jobs/progress.ts';
import { streamFrames, type DecodedFrame } from './frame-stream.ts';

export type ExportSize = 'source' | 'working';

/** The project's working geometry as stored: the effective crop (artist's + aspect fix) and the short side. */
export interface StoredWorking {
  width: number;
  height: number;
  crop: Crop;
  shortSide: number;
}

/** What the export needs to know about the source video: what the project's probe and geometry say. */
export interface ExportSourceInfo {
  /** Display size (after rotation). */
  width: number;
  height: number;
  fps: Rational;
  startTime: Rational;
  streamIndex: number;
  container: string;
  /** Frames on the timeline, the whole video's. */
  frameCount: number;
  /** Codec of the first audio stream; null when the video has no sound. */
  audioCodec: string | null;
  working: StoredWorking;
}

/** A frame the project holds as a PNG at the working size; null: the source frame shows. */
export interface StoredFrame {
  kind: 'render' | 'keyframe';
  png: Uint8Array;
}
export type FrameGetter = (index: number) => Promise<StoredFrame | null>;

export interface ExportCoreRequest {
  outPath: string;
  /** 'source' (default): the source's pixels minus the artist's crop; 'working': the working size. */
  size?: ExportSize;
  /** How working-size images reach the source's size (default: the benchmark's pick). */
  upsample?: UpsampleMethod;
  crf?: number;
  audio?: boolean;
  /** What an existing file at `outPath` may be (default 'videos'). */
  replace?: ReplacePolicy;
  /** Files never replaced (the project being read). */
  protect?: readonly string[];
  /**
   * Frames [start, start + count) of the source (default: all of them). The sound is kept only for
   * a range that starts at frame 0: the encoder reads the source's sound from its start.
   */
  range?: { start: number; count: number };
}

export interface ExportCoreDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
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
export function artistCrop(source: { width: number; height: number }, working: StoredWorking): Crop {
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

export function sourceRegion(source: { width: number; height: number }, working: StoredWorking): SourceRegion {
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

/** The request's size and upsampling method, checked (RangeError) before any work. */
export function exportChoices(req: { size?: ExportSize; upsample?: UpsampleMethod }): { size: ExportSize; method: UpsampleMethod } {
  const size: ExportSize = req.size ?? 'source';
  if (size !== 'source' && size !== 'working') throw new RangeError(`size must be 'source' or 'working' (got ${JSON.stringify(size)}).`);
  const method = req.upsample ?? DEFAULT_UPSAMPLE_METHOD;
  if (!(UPSAMPLE_METHODS as readonly string[]).includes(method)) throw new RangeError(`upsample must be one of ${UPSAMPLE_METHODS.join(', ')} (got ${JSON.stringify(method)}).`);
  return { size, method };
}

/** Writes `req.outPath` from the video at `videoPath` (described by `info`) and the frames `frame` gives. */
export async function exportFrames(videoPath: string, info: ExportSourceInfo, frame: FrameGetter, req: ExportCoreRequest, deps: ExportCoreDeps): Promise<ExportResult> {
  const { size, method } = exportChoices(req);
  const range = req.range ?? { start: 0, count: info.frameCount };
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.count) || range.start < 0 || range.count < 1 || range.start + range.count > info.frameCount) {
    throw new RangeError(`frames ${range.start}..${range.start + range.count - 1} are outside the video's 0..${info.frameCount - 1}.`);
  }
  const working = info.working;
  const expected = { width: working.width, height: working.height };
  const audio = req.audio !== false && info.audioCodec !== null && range.start === 0;

  // At source resolution every frame needs the full-size source (as the picture or as the guide):
  // decoded with the artist's crop only, no scaling, one frame at a time.
  const region = size === 'source' ? sourceRegion(info, working) : null;
  const upsample = region ? loadUpsampler() : null;
  const width = region ? region.width : working.width;
  const height = region ? region.height : working.height;
  const decodeGeometry = region
    ? { width, height, filter: cropScaleFilter(info.width, info.height, region.crop, width, height) }
    : { width, height, filter: cropScaleFilter(info.width, info.height, working.crop, working.width, working.height) };

  // Source frames are decoded only once some frame needs one, then in one sequential ffmpeg run
  // from the range's start (skipping what is not needed, as a seek would not be exact).
  let source: ReturnType<typeof streamFrames> | null = null;
  const nextSource = async (i: number): Promise<Uint8Array> => {
    source ??= streamFrames(videoPath, info, decodeGeometry, range, { tools: deps.tools, signal: deps.signal });
    let f: IteratorResult<DecodedFrame>;
    do {
      f = await source.next();
      if (f.done) throw new Error(`the source ended before frame ${i}`);
    } while (f.value.index < i);
    return f.value.rgb;
  };
  const counts = { render: 0, keyframe: 0, source: 0 };
  const stored = async (i: number): Promise<Uint8Array | null> => {
    const s = await frame(i);
    if (!s) {
      counts.source++;
      return null;
    }
    counts[s.kind]++;
    return toRgb(decodePng(s.png, expected));
  };

  try {
    await encodeMp4(
      {
        out: req.outPath,
        width,
        height,
        fps: info.fps,
        frameCount: range.count,
        crf: req.crf,
        replace: req.replace,
        protect: req.protect,
        audioFrom: audio ? { path: videoPath, codec: info.audioCodec } : null,
        frame: async (n) => {
          const i = range.start + n;
          const low = await stored(i);
          if (!region) return low ?? (await nextSource(i));
          const guide = await nextSource(i);
          if (!low) return guide;
          return upsample!(
            { data: low, width: working.width, height: working.height, channels: 3 },
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
    await (source as ReturnType<typeof streamFrames> | null)?.close();
  }
  // yuv420p: the encoder drops an odd last column/row (see media/encode.ts).
  return {
    out: req.outPath, size, width: width - (width % 2), height: height - (height % 2), frames: range.count,
    fromRenders: counts.render, fromKeyframes: counts.keyframe, fromSource: counts.source, audio,
  };
}
