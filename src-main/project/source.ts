// The source video as the project knows it: where it was, how to recognise it again, what the
// probe said, and the working geometry every stage renders at.
import { z } from 'zod';
import { cropSchema, rationalSchema } from '../api/contract.ts';

const positiveInt = z.number().int().positive();

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
  width: positiveInt,
  height: positiveInt,
  fps: rationalSchema.refine((r) => r.num > 0, 'fps must be positive'),
  frameCount: positiveInt,
  duration: rationalSchema,
  rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
  audio: z.array(audioStreamSchema),
});
export type SourceProbe = z.infer<typeof sourceProbeSchema>;
export type AudioStream = z.infer<typeof audioStreamSchema>;

/** The size every stage works at: the source cropped, then scaled so its short side is `shortSide`. */
export const workingGeometrySchema = z.strictObject({
  width: positiveInt,
  height: positiveInt,
  crop: cropSchema,
  shortSide: positiveInt,
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
