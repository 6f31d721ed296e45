// An exact byte range of an open file, as every weights reader needs: a short read (a truncated
// file) is reported as the caller's own error, since each format words it for its own file.
import fs from 'node:fs';

export function readAt(fd: number, position: number, length: number, short: (at: number) => Error): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw short(position + done);
    done += n;
  }
  return buf;
}
