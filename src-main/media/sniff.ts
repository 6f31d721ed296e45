// Recognises common video containers by their first bytes, to tell a damaged video (CORRUPT) from
// something that never was one (NOT_A_VIDEO) when ffprobe cannot open a file.
import { open } from 'node:fs/promises';

const BMFF_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip', 'pnot']);

export function looksLikeVideoContainer(head: Uint8Array): boolean {
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 8 && BMFF_BOXES.has(ascii(4, 8))) return true; // MP4 / MOV
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 11) === 'AVI') return true;
  const magic = (bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (magic([0x1a, 0x45, 0xdf, 0xa3])) return true; // Matroska / WebM
  if (magic([0x00, 0x00, 0x01, 0xba])) return true; // MPEG program stream
  if (head.length > 188 && head[0] === 0x47 && head[188] === 0x47) return true; // MPEG transport stream
  if (magic([0x30, 0x26, 0xb2, 0x75])) return true; // ASF / WMV
  return ascii(0, 3) === 'FLV' || ascii(0, 4) === 'OggS';
}

export async function sniffVideoContainer(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = new Uint8Array(256);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return looksLikeVideoContainer(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
