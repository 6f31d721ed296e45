// The single IPC entry point: who may call, and with what. Arguments are validated against
// the contract's schemas here, before anything reaches the services process.
import { requestSchemas, type RequestName } from '../api/contract.ts';
import type { InvokeEventLike } from './electron-types.ts';
import { toWireError, type Envelope } from './ipc-envelope.ts';

export type Forward = (name: RequestName, args: unknown[]) => Promise<unknown>;

export interface RequestHandlerOptions {
  /** Is this frame URL ours? */
  isTrustedUrl: (url: string | undefined) => boolean;
  forward: Forward;
}

function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requestSchemas, name);
}

/** Returns the `ipcMain.handle` listener: `(event, name, ...args) => Envelope`. */
export function createRequestHandler(opts: RequestHandlerOptions) {
  return async (event: InvokeEventLike, name: unknown, ...args: unknown[]): Promise<Envelope> => {
    if (!opts.isTrustedUrl(event.senderFrame?.url)) {
      return { ok: false, error: { code: 'FORBIDDEN', message: 'request refused: the sender is not the Rerender Studio window' } };
    }
    if (!isRequestName(name)) {
      return { ok: false, error: { code: 'UNKNOWN_REQUEST', message: `unknown request ${JSON.stringify(String(name))}` } };
    }
    const parsed = requestSchemas[name].safeParse(args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` (argument ${issue.path.join('.')})` : '';
      return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `${name}: ${issue?.message ?? 'invalid arguments'}${where}` } };
    }
    try {
      return { ok: true, value: await opts.forward(name, parsed.data as unknown[]) };
    } catch (err) {
      return { ok: false, error: toWireError(err) };
    }
  };
}
