// The source video as the project knows it: where it was, how to recognise it again, what the
// probe said, and the working geometry every stage renders at.
import { z } from 'zod';
import { cropSchema, rationalSchema } from '../api/contract.ts';

/**
 * The longest video a project takes: 2,000,000 frames, about 18.5 hours at 30 fps (9 at 60). Every
 * stage keeps per-frame state (sets of rendered frames, flow and job bookkeeping) in memory, and
 * JavaScript's Set/Map top out at 2^24 entries; a far larger count can only come from a damaged or
 * crafted file, and trusting it would hang a command or exhaust memory.
 */
export const MAX_FRAMES = 2_000_000;
/** The widest or tallest picture taken: 16K. A frame is decoded whole into memory at this size. */
export const MAX_DIMENSION = 16_384;

const positiveInt = z.number().int().positive();
const dimension = positiveInt.max(MAX_DIMENSION, `must be at most ${MAX_DIMENSION} pixels`);

export const audioStreamSchema = z.looseObject({
  index: z.number().int().nonnegative(),
  codec: z.string(),
  channels: z.number().int().nonnegative(),
  sampleRate: z.number().int().nonnegative(),
});

/**
 * What the media layer probed. Stored as JSON and treated as opaque beyond these fields: extra keys
 * the prober adds are kept as they are.
 */
export const sourceProbeSchema = z.looseObject({
  width: dimension,
  height: dimension,
  fps: rationalSchema.refine((r) => r.num > 0, 'fps must be positive'),
  frameCount: positiveInt.max(MAX_FRAMES, `must be at most ${MAX_FRAMES}`),
  duration: rationalSchema,
  rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
  audio: z.array(audioStreamSchema),
  // Optional (test fixtures and old projects lack them) but, when present, handed to ffmpeg as
  // they are, so checked like the rest.
  streamIndex: z.number().int().nonnegative().optional(),
  startTime: rationalSchema.optional(),
  container: z.string().optional(),
});
export type SourceProbe = z.infer<typeof sourceProbeSchema>;
export type AudioStream = z.infer<typeof audioStreamSchema>;

/** The size every stage works at: the source cropped, then scaled so its short side is `shortSide`. */
export const workingGeometrySchema = z.strictObject({
  width: dimension,
  height: dimension,
  crop: cropSchema,
  shortSide: dimension,
});
export type WorkingGeometry = z.infer<typeof workingGeometrySchema>;

export const sourceFileSchema = z.strictObject({
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  mtimeMs: z.number().nonnegative(),
  /** sha256 of the file's bytes, lowercase hex; computed by the caller. */
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hex digits')
    .transform((s) => s.toLowerCase()),
});
export type SourceFile = z.input<typeof sourceFileSchema>;

export interface SourceRecord {
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  probe: SourceProbe;
  working: WorkingGeometry;
}

export type SourceResolution =
  | { status: 'linked'; path: string }
  | { status: 'relinked'; path: string; previousPath: string }
  | { status: 'missing'; path: string };

/** What probing found and worked around (kept in the stored probe since it had them; older projects have none). */
export function sourceWarnings(probe: SourceProbe): string[] {
  const w = (probe as { warnings?: unknown }).warnings;
  return Array.isArray(w) ? w.filter((x): x is string => typeof x === 'string') : [];
}
