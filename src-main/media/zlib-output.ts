// node:zlib's one-shot async calls run on libuv's thread pool but call back into JavaScript once
// per output chunk, 16 KiB by default: a frame's worth of output was 50 or so calls, 2-3 ms of the
// main thread per frame. One chunk that holds the whole result makes it one.

/** chunkSize for an output of at most about `bytes` (deflate's worst case is a little over its input). */
export function wholeOutputChunk(bytes: number): number {
  return Math.max(64 * 1024, bytes + (bytes >> 8) + 1024);
}
