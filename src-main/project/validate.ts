// Argument checks shared by the stores: a bad frame index or a non-PNG image is refused before it
// reaches the file.
import type { z } from 'zod';
import { ProjectError } from './errors.ts';

export function checkFrame(frame: number, frameCount: number): void {
  if (!Number.isInteger(frame) || frame < 0 || frame >= frameCount) {
    throw new ProjectError(
      'OUT_OF_RANGE',
      `Frame ${String(frame)} is out of range: the source has frames 0 to ${frameCount - 1}`,
    );
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Only the signature is checked: decoding every image on write would cost more than it catches. */
export function checkPng(bytes: Uint8Array, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new ProjectError('INVALID_IMAGE', `${what} is not a PNG image`);
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Parses `value` with `schema`, or throws INVALID_ARGUMENT naming each bad field. */
export function parseArg<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const details = r.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ');
    throw new ProjectError('INVALID_ARGUMENT', `Invalid ${what}: ${details}`, { cause: r.error });
  }
  return r.data;
}

/**
 * Parses a JSON column read back from the file with `schema`, or throws DAMAGED naming `what`:
 * stored values are checked like arguments, since the file may have been damaged or crafted.
 */
export function parseStored<T extends z.ZodType>(schema: T, json: string, what: string): z.output<T> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new ProjectError('DAMAGED', `${what} cannot be read (${(err as Error).message})`, { cause: err });
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const details = r.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ');
    throw new ProjectError('DAMAGED', `${what} did not pass the checks (${details})`, { cause: r.error });
  }
  return r.data;
}
