import { describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { coverage, createMask, isEmptyMask, maskFromSamples, maskToRgba, paintStroke, stampDab, toMaskPoint } from '../../src-renderer/lib/mask-raster.ts';
import { decodeMaskPng, encodeMaskPng } from '../../src-renderer/lib/mask-png.ts';

const at = (m: ReturnType<typeof createMask>, x: number, y: number) => m.data[y * m.width + x]!;

describe('mask rasterization', () => {
  it('has a hard core and a feathered rim', () => {
    expect(coverage(0, 0.5)).toBe(1);
    expect(coverage(0.5, 0.5)).toBe(1);
    expect(coverage(0.75, 0.5)).toBeCloseTo(0.5, 5);
    expect(coverage(1, 0.5)).toBe(0);
    expect(coverage(0.99, 1)).toBe(1);
    // Softer brushes fall off earlier.
    expect(coverage(0.4, 0)).toBeLessThan(coverage(0.4, 0.5));
  });

  it('paints a dab: full inside, graded edge, nothing outside', () => {
    const m = createMask(64, 64);
    stampDab(m, 32, 32, { mode: 'paint', size: 20, hardness: 0.5 });
    expect(at(m, 32, 32)).toBe(255);
    expect(at(m, 35, 32)).toBe(255);
    const edge = at(m, 32 + 7, 32);
    expect(edge).toBeGreaterThan(0);
    expect(edge).toBeLessThan(255);
    expect(at(m, 32 + 11, 32)).toBe(0);
    expect(at(m, 0, 0)).toBe(0);
  });

  it('does not build up where dabs overlap, and erases', () => {
    const once = createMask(64, 64);
    const brush = { mode: 'paint' as const, size: 16, hardness: 0 };
    stampDab(once, 20, 20, brush);
    const twice = createMask(64, 64);
    stampDab(twice, 20, 20, brush);
    stampDab(twice, 20, 20, brush);
    expect(twice.data).toEqual(once.data);

    paintStroke(twice, [{ x: 20, y: 20 }], { mode: 'erase', size: 40, hardness: 1 });
    expect(isEmptyMask(twice)).toBe(true);
  });

  it('paints a continuous stroke without gaps between sparse points', () => {
    const m = createMask(100, 20);
    paintStroke(m, [{ x: 5, y: 10 }, { x: 95, y: 10 }], { mode: 'paint', size: 6, hardness: 1 });
    for (let x = 5; x < 95; x++) expect(at(m, x, 10)).toBe(255);
    expect(at(m, 50, 2)).toBe(0);
  });

  it('maps display points to working-resolution mask pixels', () => {
    const m = createMask(256, 192);
    expect(toMaskPoint({ x: 512, y: 384 }, 1024, 768, m)).toEqual({ x: 128, y: 96 });
  });

  it('round-trips through a grey 8-bit PNG', () => {
    const m = createMask(40, 30);
    stampDab(m, 10, 10, { mode: 'paint', size: 12, hardness: 0.3 });
    const png = decode(encodeMaskPng(m));
    expect(png.channels).toBe(1);
    expect(png.depth).toBe(8);
    expect([png.width, png.height]).toEqual([40, 30]);
    const back = maskFromSamples(png.width, png.height, png.data, png.channels, png.depth);
    expect(back.data).toEqual(m.data);
    const half = decodeMaskPng(encodeMaskPng(m), 20, 15);
    expect([half.width, half.height]).toEqual([20, 15]);
    expect(half.data[5 * 20 + 5]).toBe(m.data[10 * 40 + 10]);
  });

  it('tints the overlay with alpha = mask * opacity', () => {
    const m = createMask(2, 1);
    m.data[1] = 200;
    const px = maskToRgba(m, [255, 0, 0], 0.5);
    expect([...px]).toEqual([255, 0, 0, 0, 255, 0, 0, 100]);
  });
});
