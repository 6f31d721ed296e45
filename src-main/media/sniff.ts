// What a source file may be, checked before and while ffmpeg reads it: the kind of file on disk,
// the containers recognised by their first bytes (to tell a damaged video, CORRUPT, from something
// that never was one, NOT_A_VIDEO), and the only demuxers and protocols ffmpeg may use to read it.
import type { Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { MediaError, fileLabel } from './errors.ts';

const BMFF_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip', 'pnot']);

/**
 * Demuxers a local video file needs (ffmpeg's names; "mov" also answers to mp4, "matroska" to
 * webm). Playlists (hls, dash), concat lists, image sequences and raw streams are left out: they
 * open other files or URLs, or are not videos with timestamps.
 */
export const SOURCE_DEMUXERS = ['mov', 'mp4', 'matroska', 'webm', 'avi', 'mpeg', 'mpegts', 'asf', 'flv', 'ogg'] as const;

/** Input options for every ffmpeg/ffprobe run that reads a source: local files only, known containers only. */
export function sourceInputArgs(): string[] {
  return ['-protocol_whitelist', 'file,pipe', '-format_whitelist', SOURCE_DEMUXERS.join(',')];
}

/** Demuxers whose refusal means "only sound" rather than "unsupported". */
const AUDIO_DEMUXERS = /^(mp3|wav|w64|flac|aac|aiff|ac3|eac3|caf|amr|ape|wv|dts|truehd|s16le)$/;
const IMAGE_DEMUXERS = /^(image2|[a-z0-9]+_pipe|gif|apng|webp|bmp|tiff)$/;

export type RefusedSource =
  | { kind: 'playlist' | 'image' | 'audio'; demuxer: string }
  | { kind: 'other'; demuxer: string };

/** Reads ffmpeg's "[hls @ 0x…] Format not on whitelist" line: which demuxer the file needed, or null if that was not the failure. */
export function refusedDemuxer(stderr: string): RefusedSource | null {
  const m = /\[([A-Za-z0-9_,]+) @ (?:0x)?[0-9a-fA-F]+\] Format not on whitelist/.exec(stderr);
  if (!m?.[1]) return null;
  const demuxer = m[1];
  if (/^(hls|dash|concat|ffconcat)$/.test(demuxer)) return { kind: 'playlist', demuxer };
  if (IMAGE_DEMUXERS.test(demuxer)) return { kind: 'image', demuxer };
  if (AUDIO_DEMUXERS.test(demuxer)) return { kind: 'audio', demuxer };
  return { kind: 'other', demuxer };
}

/** The error for a source ffmpeg was not allowed to open (see sourceInputArgs), or null when that was not the failure. */
export function refusedSourceError(file: string, stderr: string): MediaError | null {
  const refused = refusedDemuxer(stderr);
  if (!refused) return null;
  const name = fileLabel(file);
  switch (refused.kind) {
    case 'image':
      return new MediaError('NOT_A_VIDEO', `${name} is a still image, not a video file.`);
    case 'audio':
      return new MediaError('AUDIO_ONLY', `${name} contains only sound, no picture. Choose a video file.`);
    case 'playlist':
      return new MediaError(
        'UNSUPPORTED_MEDIA',
        `${name} is a playlist (${refused.demuxer}) that points at other files or addresses, not a video file. ` +
          'Download or convert it to a single video file (MP4, MOV, MKV, WebM, AVI) first.',
      );
    default:
      return new MediaError(
        'UNSUPPORTED_MEDIA',
        `${name} is in a format Rerender does not open as a video source (${refused.demuxer}). ` +
          'Convert it to MP4, MOV, MKV, WebM or AVI first.',
      );
  }
}

/** What a non-regular file is, in the artist's words ("a folder", "a device"), or null for a plain file. */
export function nonFileKind(info: Stats): string | null {
  if (info.isFile()) return null;
  if (info.isDirectory()) return 'a folder';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isFIFO()) return 'a pipe';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

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
