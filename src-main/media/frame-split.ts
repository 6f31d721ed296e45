// ffmpeg's rawvideo output arrives in pipe chunks of any size: this cuts it into whole frames.

/** A chunk handler that returns the frames of `frameBytes` bytes each chunk completes. */
export function frameSplitter(frameBytes: number): (chunk: Uint8Array) => Uint8Array[] {
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  return (chunk) => {
    const done: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(frameBytes - filled, chunk.length - offset);
      frame.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === frameBytes) {
        done.push(frame);
        frame = new Uint8Array(frameBytes);
        filled = 0;
      }
    }
    return done;
  };
}
