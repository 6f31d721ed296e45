// The export job's payload, manifest and result as schemas (see export-job.ts). Apart from
// schemas.ts, which may list the export job among the others without an import cycle.
import { z } from 'zod';
import { MAX_DIMENSION, MAX_FRAMES } from '../project/source.ts';
import { UPSAMPLE_METHODS } from '../propagate/upsample.ts';
import { SHA256_RE } from './artifacts.ts';

const hash = z.string().regex(SHA256_RE, 'must be a SHA-256 hex digest');
const frame = z.int().min(0).max(MAX_FRAMES - 1);
const dimension = z.int().min(2).max(MAX_DIMENSION);
const cropSide = z.int().min(0).max(MAX_DIMENSION);

/** The source as the export core needs it (export-core.ts ExportSourceInfo), every number range-checked. */
export const exportSourceSchema = z.strictObject({
  width: dimension,
  height: dimension,
  fps: z.strictObject({ num: z.int().min(1).max(1_000_000_000), den: z.int().min(1).max(1_000_000_000) }),
  startTime: z.strictObject({ num: z.int().min(-(2 ** 52)).max(2 ** 52), den: z.int().min(1).max(1_000_000_000) }),
  streamIndex: z.int().min(0).max(1000),
  /** ffprobe's format names ("mov,mp4,m4a,3gp,3g2,mj2"): only ever compared, never handed to a shell. */
  container: z.string().regex(/^[a-z0-9_,]{1,128}$/, 'must be ffprobe format names'),
  frameCount: z.int().min(1).max(MAX_FRAMES),
  audioCodec: z.string().regex(/^[a-z0-9_]{1,64}$/, 'must be an ffprobe codec name').nullable(),
  working: z.strictObject({
    width: dimension,
    height: dimension,
    crop: z.strictObject({ left: cropSide, right: cropSide, top: cropSide, bottom: cropSide }),
    shortSide: dimension,
  }),
}).refine((s) => s.working.crop.left + s.working.crop.right < s.width && s.working.crop.top + s.working.crop.bottom < s.height, 'the crop must leave a picture');

/** A file name only: no folder, nothing hidden, no control characters. */
const outName = z.string().min(1).max(255)
  .refine((n) => !/[/\\]/.test(n) && ![...n].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), 'must be a file name, without / or \\')
  .refine((n) => n !== '.' && n !== '..' && !n.startsWith('.'), 'must be a plain file name');

export const exportJobSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('export'),
  project: z.strictObject({ key: z.string().regex(/^[0-9a-f]{16}$/), name: z.string().max(256) }),
  shot: z.strictObject({ index: z.int().min(0), first: frame, last: frame }),
  /** The submitter's artifact store as it sees it; each worker maps it (see path-map.ts). */
  store: z.string().min(1).max(4096),
  /** The source video file, by content; `ext` names the worker's temporary copy. */
  video: z.strictObject({ hash, ext: z.string().regex(/^[a-z0-9]{1,10}$/, 'must be a file extension') }),
  source: exportSourceSchema,
  /** The shot's frames (exportManifestSchema), a JSON artifact. */
  manifest: hash,
  request: z.strictObject({
    size: z.enum(['source', 'working']),
    upsample: z.enum(UPSAMPLE_METHODS),
    crf: z.int().min(0).max(51),
    audio: z.boolean(),
  }),
  /** The name of the file the owner writes (for status lines; the path stays with the owner). */
  outName,
}).refine((j) => j.shot.first <= j.shot.last && j.shot.last < j.source.frameCount, 'the shot must lie within the video\'s frames');
export type ExportJobData = z.infer<typeof exportJobSchema>;

/**
 * Per frame of the shot, from `first` on: `farm` when a child job renders it (its render comes from
 * that job's result), else the render the project holds, and the key-frame image if it has one.
 */
export const exportManifestSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('export-manifest'),
  first: frame,
  frames: z.array(z.strictObject({ farm: z.boolean(), render: hash.nullable(), keyframe: hash.nullable() })
    .refine((f) => !(f.farm && f.render !== null), 'a frame rendered on the farm lists no render')).min(1).max(MAX_FRAMES),
});
export type ExportManifest = z.infer<typeof exportManifestSchema>;

export const exportResultSchema = z.strictObject({
  mp4: hash,
  bytes: z.int().min(1),
  frames: z.int().min(1).max(MAX_FRAMES),
  width: dimension,
  height: dimension,
  worker: z.string().max(256),
  device: z.string().max(256),
  ms: z.number().min(0),
  /** Where the frames came from, and whether the source's sound is in (as a local export reports). */
  fromRenders: z.int().min(0),
  fromKeyframes: z.int().min(0),
  fromSource: z.int().min(0),
  audio: z.boolean(),
});
export type ExportJobResult = z.infer<typeof exportResultSchema>;
