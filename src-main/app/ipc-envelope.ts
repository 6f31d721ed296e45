// What crosses IPC for each request: Electron's invoke() flattens thrown errors into a message
// string, so results and typed errors travel in an envelope and the preload re-throws.
import type { WireError } from '../api/contract.ts';

export type Envelope = { ok: true; value: unknown } | { ok: false; error: WireError };

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: err.message };
  }
  return { code: 'INTERNAL', message: String(err) };
}

/** An Error carrying the wire error's code, as the renderer sees it. */
export function fromWireError(error: WireError): Error & { code: string } {
  const err = new Error(error.message) as Error & { code: string };
  err.code = error.code;
  return err;
}
