// Working geometry: the size frames are processed at. Crop first (in display orientation, source
// pixels), then scale so the short side is `shortSide`, both sides multiples of 64 (what SD/ControlNet
// need). Rounding the long side changes the aspect ratio slightly; rather than stretch the picture we
// centre-crop the few source pixels that make the aspect exact (to within half a pixel).
import type { Crop } from '../api/contract.ts';
import { MediaError } from './errors.ts';

export type { Crop };

export interface WorkingGeometry {
  /** Working size, multiples of 64. */
  width: number;
  height: number;
  /** Display size of the source the crop refers to. */
  sourceWidth: number;
  sourceHeight: number;
  /** Effective crop in source pixels (the artist's crop plus the aspect-fix crop). */
  crop: Crop;
  /** ffmpeg filter chain taking a display-oriented source frame to the working size. */
  filter: string;
}

export interface GeometryOptions {
  /** Target short side; rounded to a multiple of 64 (at least 64). */
  shortSide?: number;
  crop?: Crop;
}

const ALIGN = 64;
const NO_CROP: Crop = { left: 0, right: 0, top: 0, bottom: 0 };

function invalid(message: string): MediaError {
  return new MediaError('INVALID_ARGUMENT', message);
}

export function cropScaleFilter(sourceWidth: number, sourceHeight: number, crop: Crop, width: number, height: number): string {
  const w = sourceWidth - crop.left - crop.right;
  const h = sourceHeight - crop.top - crop.bottom;
  const parts: string[] = [];
  if (w !== sourceWidth || h !== sourceHeight) parts.push(`crop=${w}:${h}:${crop.left}:${crop.top}`);
  parts.push(`scale=${width}:${height}:flags=bicubic`, 'setsar=1');
  return parts.join(',');
}

export function workingGeometry(
  probe: { width: number; height: number },
  options: GeometryOptions = {},
): WorkingGeometry {
  const requested = options.shortSide ?? 512;
  if (!Number.isFinite(requested) || requested <= 0) throw invalid(`The working size must be positive (got ${requested}).`);
  const shortSide = Math.max(ALIGN, Math.round(requested / ALIGN) * ALIGN);
  const user = options.crop ?? NO_CROP;
  for (const [side, v] of Object.entries(user)) {
    if (!Number.isSafeInteger(v) || v < 0) throw invalid(`Crop ${side} must be a whole number of pixels, 0 or more (got ${v}).`);
  }
  const cw = probe.width - user.left - user.right;
  const ch = probe.height - user.top - user.bottom;
  if (cw < 1 || ch < 1) {
    throw invalid(`The crop removes the whole picture (${probe.width}×${probe.height} cropped to ${Math.max(cw, 0)}×${Math.max(ch, 0)}).`);
  }

  const portrait = cw < ch;
  const [shortSrc, longSrc] = portrait ? [cw, ch] : [ch, cw];
  const longSide = Math.max(ALIGN, Math.round((longSrc * shortSide) / shortSrc / ALIGN) * ALIGN);
  const width = portrait ? shortSide : longSide;
  const height = portrait ? longSide : shortSide;

  // Largest centred region of the cropped source with exactly the working aspect ratio.
  let usedW = cw;
  let usedH = ch;
  if (cw * height > ch * width) usedW = Math.max(1, Math.round((ch * width) / height));
  else usedH = Math.max(1, Math.round((cw * height) / width));
  const extraX = cw - usedW;
  const extraY = ch - usedH;
  const crop: Crop = {
    left: user.left + Math.floor(extraX / 2),
    right: user.right + (extraX - Math.floor(extraX / 2)),
    top: user.top + Math.floor(extraY / 2),
    bottom: user.bottom + (extraY - Math.floor(extraY / 2)),
  };
  return {
    width,
    height,
    sourceWidth: probe.width,
    sourceHeight: probe.height,
    crop,
    filter: cropScaleFilter(probe.width, probe.height, crop, width, height),
  };
}

/** Uncropped geometry of a given height keeping the display aspect (thumbnails, previews). */
export function previewGeometry(probe: { width: number; height: number }, height: number): WorkingGeometry {
  if (!Number.isSafeInteger(height) || height < 1) throw invalid(`The preview height must be a whole number of pixels (got ${height}).`);
  const width = Math.max(1, Math.round((probe.width * height) / probe.height));
  return {
    width,
    height,
    sourceWidth: probe.width,
    sourceHeight: probe.height,
    crop: { ...NO_CROP },
    filter: cropScaleFilter(probe.width, probe.height, NO_CROP, width, height),
  };
}
