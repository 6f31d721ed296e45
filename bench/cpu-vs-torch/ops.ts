// The three timed ops and the sides that run them.
export type OpName = 'step' | 'encode' | 'decode';
export const OPS: readonly OpName[] = ['step', 'encode', 'decode'];

export const OP_LABELS: Record<OpName, string> = {
  step: 'UNet+ControlNet step (batch 2)',
  encode: 'VAE encode (1x3xHxW)',
  decode: 'VAE decode (1x4xhxw)',
};

export interface Timing { ms: number; cpuMs: number }

/** Each side times its op itself, around the call only (no I/O between the sides counted). */
export interface Side {
  readonly name: string;
  /** Wall and process CPU milliseconds the op took (CPU well above threads × wall: threads spun). */
  run(op: OpName): Promise<Timing>;
  /** Peak resident set of the side's process so far, KiB. */
  peakRssKb(): Promise<number>;
  close(): Promise<void>;
}
