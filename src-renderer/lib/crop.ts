// What the working size cuts away from the source (its aspect is fixed and its sides snapped to
// 64, which can cost 11% of the height), said in plain words so artists know what will be lost.
import type { Crop } from '../../src-main/api/contract.ts';

function percent(part: number, whole: number): string {
  const p = (100 * part) / whole;
  return p > 0 && p < 1 ? 'under 1%' : `${Math.round(p)}%`;
}

function pair(a: number, b: number, first: string, second: string): string {
  return a === b ? `${a} px ${first} and ${second}` : a === 0 ? `${b} px ${second}` : b === 0 ? `${a} px ${first}` : `${a} px ${first}, ${b} px ${second}`;
}

/** "crops 28 px top and bottom, 11%", or null when nothing is cut away. */
export function cropText(source: { width: number; height: number }, crop: Crop): string | null {
  const parts: string[] = [];
  const v = crop.top + crop.bottom;
  const h = crop.left + crop.right;
  if (v > 0) parts.push(`${pair(crop.top, crop.bottom, 'top', 'bottom')}, ${percent(v, source.height)}`);
  if (h > 0) parts.push(`${pair(crop.left, crop.right, 'left', 'right')}, ${percent(h, source.width)}`);
  return parts.length === 0 ? null : `crops ${parts.join('; ')}`;
}

/** The kept region as fractions of the source (for the crop diagram). */
export function keptRegion(source: { width: number; height: number }, crop: Crop): { x: number; y: number; w: number; h: number } {
  return {
    x: crop.left / source.width,
    y: crop.top / source.height,
    w: (source.width - crop.left - crop.right) / source.width,
    h: (source.height - crop.top - crop.bottom) / source.height,
  };
}
