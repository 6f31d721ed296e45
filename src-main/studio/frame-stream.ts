// Sequential access to decoded frames as an async iterator over one ffmpeg run, with backpressure:
// ffmpeg is held back until the consumer asks for the next frame.
import { decodeFrames, type DecodeGeometry, type DecodeSource, type FrameRange, type MediaTools } from '../media/index.ts';

export interface DecodedFrame {
  index: number;
  rgb: Uint8Array;
}

export function streamFrames(
  file: string,
  source: DecodeSource,
  geometry: DecodeGeometry,
  range: FrameRange,
  opts: { tools: MediaTools; signal?: AbortSignal },
): AsyncIterableIterator<DecodedFrame> & { close(): Promise<void> } {
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const ready: DecodedFrame[] = [];
  let wake: (() => void) | null = null;
  let resumeProducer: (() => void) | null = null;
  let finished = false;
  let closed = false;
  let failure: unknown = null;

  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const run = decodeFrames(file, source, geometry, range, {
    tools: opts.tools,
    signal,
    onFrame: (index, rgb) => {
      // Once closed nobody will consume: never block, or ffmpeg's output would stall forever.
      if (closed) return;
      ready.push({ index, rgb });
      notify();
      // One frame of look-ahead: decoding of the next overlaps the consumer's work on this one.
      if (ready.length < 2) return;
      return new Promise<void>((resolve) => {
        resumeProducer = resolve;
      });
    },
  }).then(
    () => {
      finished = true;
      notify();
    },
    (e: unknown) => {
      failure = e;
      finished = true;
      notify();
    },
  );

  const iterator = {
    async next(): Promise<IteratorResult<DecodedFrame>> {
      for (;;) {
        const item = ready.shift();
        if (item) {
          const r = resumeProducer;
          resumeProducer = null;
          r?.();
          return { value: item, done: false };
        }
        if (failure !== null && !stop.signal.aborted) throw failure;
        if (finished) return { value: undefined, done: true };
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    async return(): Promise<IteratorResult<DecodedFrame>> {
      await iterator.close();
      return { value: undefined, done: true };
    },
    async close(): Promise<void> {
      closed = true;
      ready.length = 0;
      if (!finished) stop.abort();
      const r = resumeProducer;
      resumeProducer = null;
      r?.();
      await run;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
