// Every job's payload and return value, as schemas. A worker parses the payload before anything
// runs, and the owner parses the return value before ingesting: nothing read from the queue is
// trusted, and nothing in it is ever executed (no code, no command lines, no paths outside roots).
import { z } from 'zod';
import { BACKENDS, FLOW_METHODS } from '../propagate/choices.ts';
import { settingsSchema } from '../project/settings.ts';
import { FarmError } from './errors.ts';
import { FARM_STAGES } from './stages.ts';

const hash = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest');
const frame = z.int().min(0).max(10_000_000);
const paramsHash = z.string().regex(/^[0-9a-zA-Z_-]{8,128}$/, 'must be a params hash');

/** The project's propagation settings as `propagateOptions` makes them; ranges are checked again by resolveSettings. */
export const propagateOptionsSchema = z.strictObject({
  patchSize: z.int().optional(),
  pyramidLevels: z.int().optional(),
  searchVoteIters: z.int().optional(),
  patchMatchIters: z.int().optional(),
  uniformityWeight: z.number().optional(),
  weights: z.strictObject({ colour: z.number(), edge: z.number(), temporal: z.number(), positional: z.number(), style: z.number() }).partial().optional(),
  extraPass3x3: z.boolean().optional(),
  stopThreshold: z.number().optional(),
  seed: z.int().optional(),
  threads: z.int().optional(),
  temporalInit: z.boolean().optional(),
  flowMethod: z.enum(FLOW_METHODS).optional(),
  blend: z.record(z.string().max(64), z.union([z.number(), z.string().max(64), z.boolean(), z.array(z.number()).max(8)])).optional(),
  backend: z.enum(BACKENDS).optional(),
});

/** One propagation segment of one shot: the frames it renders, from the key frames given. */
export const propagateJobSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('propagate'),
  /** Who submitted it, for status lines only. */
  project: z.strictObject({ key: z.string().regex(/^[0-9a-f]{16}$/), name: z.string().max(256) }),
  shot: z.strictObject({ index: z.int().min(0), first: frame, last: frame }),
  /** The submitter's artifact store folder as it sees it; each worker maps it (see path-map.ts). */
  store: z.string().min(1).max(4096),
  width: z.int().min(8).max(16384),
  height: z.int().min(8).max(16384),
  frameCount: z.int().min(1).max(10_000_000),
  cuts: z.array(frame).max(100_000),
  keys: z.array(z.strictObject({ frame, image: hash, mask: hash.nullable() })).min(1).max(2),
  /** Source frames by index: raw RGB at the working size, zstd-compressed (see frame-codec.ts). */
  sources: z.array(z.strictObject({ frame, rgb: hash })).min(1).max(100_000),
  /** Frames to render, each with the params hash its render will carry. */
  frames: z.array(z.strictObject({ frame, paramsHash })).min(1).max(100_000),
  settings: propagateOptionsSchema,
});
export type PropagateJobData = z.infer<typeof propagateJobSchema>;

/** A shot's finishing job, parent of its propagation jobs: done when they all are. */
export const shotJobSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('shot'),
  project: z.strictObject({ key: z.string().regex(/^[0-9a-f]{16}$/), name: z.string().max(256) }),
  shot: z.strictObject({ index: z.int().min(0), first: frame, last: frame }),
  stages: z.array(z.enum(FARM_STAGES)).min(1),
});
export type ShotJobData = z.infer<typeof shotJobSchema>;

/** A model by content: the worker looks the hash up in its models folder (model-hash.ts). */
const modelRef = z.strictObject({ hash, name: z.string().min(1).max(256) });

/**
 * A project's key-frame translation: one chain, on one worker, which keeps the anchor's and the
 * previous key frame's stored attention contexts from one key frame to the next.
 */
export const translateJobSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('translate'),
  project: z.strictObject({ key: z.string().regex(/^[0-9a-f]{16}$/), name: z.string().max(256) }),
  store: z.string().min(1).max(4096),
  width: z.int().min(64).max(4096).refine((n) => n % 8 === 0, 'must be a multiple of 8'),
  height: z.int().min(64).max(4096).refine((n) => n % 8 === 0, 'must be a multiple of 8'),
  /** The project's settings (model paths are the owner's: `models` names them by content). */
  settings: settingsSchema,
  models: z.strictObject({
    model: modelRef,
    controlnet: modelRef,
    /** In the order of settings.extraControlnets. */
    extra: z.array(modelRef).max(8),
    /** In the order of settings.loras. */
    loras: z.array(modelRef).max(64),
  }),
  /** The chain's key frames in order (the first is the anchor), each with the hash its image will carry. */
  keys: z.array(z.strictObject({
    frame,
    paramsHash,
    prompt: z.string().max(10_000).nullable(),
    mask: hash.nullable(),
    /** Its source frame (frame-codec.ts). */
    source: hash,
    /** An image that stands as made (artist-edited, or already translated): not made again. */
    done: hash.nullable(),
  })).min(1).max(10_000),
});
export type TranslateJobData = z.infer<typeof translateJobSchema>;

const madeKeyframe = z.strictObject({ frame, paramsHash, png: hash });
export type MadeKeyframe = z.infer<typeof madeKeyframe>;

/** A translation job's progress: the key frames made so far ride with it, so the owner stores each as it comes and a retry resumes after them. */
export const translateProgressSchema = z.strictObject({
  done: z.int().min(0),
  total: z.int().min(0),
  worker: z.string().max(256),
  keyframes: z.array(madeKeyframe).max(10_000),
});
export type TranslateProgress = z.infer<typeof translateProgressSchema>;

export const translateResultSchema = z.strictObject({
  keyframes: z.array(madeKeyframe).max(10_000),
  worker: z.string().max(256),
  device: z.string().max(256),
  ms: z.number().min(0),
});
export type TranslateResult = z.infer<typeof translateResultSchema>;

export const jobDataSchema = z.discriminatedUnion('kind', [propagateJobSchema, shotJobSchema, translateJobSchema]);
export type FarmJobData = z.infer<typeof jobDataSchema>;

/** What a propagation job returns: hashes only, the bytes are in the store. */
export const propagateResultSchema = z.strictObject({
  frames: z.array(z.strictObject({ frame, paramsHash, png: hash })).max(100_000),
  worker: z.string().max(256),
  device: z.string().max(256),
  ms: z.number().min(0),
  /** Of `ms`: reading inputs from the store, and writing the renders to it (the transfer overhead). */
  fetchMs: z.number().min(0).optional(),
  storeMs: z.number().min(0).optional(),
});
export type PropagateResult = z.infer<typeof propagateResultSchema>;

export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new FarmError('BAD_JOB', `${what} does not match its schema, so it was not run:\n${z.prettifyError(r.error)}`);
}
