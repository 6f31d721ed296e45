// The one shape of a deliberate failure: a `code` that callers branch on and that crosses the
// IPC/WebSocket boundary (and picks the CLI's exit code), and a message written for the artist.
export class CodedError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
