// The benchmark's per-frame styles: deterministic, really stylising, and size-independent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStyle, STYLE_NAMES } from '../../bench/quality/styles.ts';
import { psnr } from '../../bench/quality/metrics.ts';

/** A scene drawn at any size: sky gradient, a dark disc and a bright bar, in relative units. */
function scene(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x / w, v = y / h;
      let c = [80 + 120 * v, 120 + 60 * u, 200 - 80 * v];
      if ((u - 0.35) ** 2 + (v - 0.5) ** 2 < 0.04) c = [60, 30, 20];
      if (u > 0.65 && u < 0.8 && v > 0.2) c = [240, 220, 120];
      out.set(c.map(Math.round), (y * w + x) * 3);
    }
  }
  return out;
}

/** Box-downscales an RGB image by 2. */
function half(img: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array((w / 2) * (h / 2) * 3);
  for (let y = 0; y < h / 2; y++) {
    for (let x = 0; x < w / 2; x++) {
      for (let c = 0; c < 3; c++) {
        const at = (dx: number, dy: number) => img[((2 * y + dy) * w + 2 * x + dx) * 3 + c] ?? 0;
        out[(y * (w / 2) + x) * 3 + c] = Math.round((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1)) / 4);
      }
    }
  }
  return out;
}

test('every style is deterministic, keeps the size and changes the image', () => {
  const img = scene(64, 48);
  const outs = STYLE_NAMES.map((s) => applyStyle(s, img, 64, 48));
  STYLE_NAMES.forEach((s, i) => {
    const o = outs[i] as Uint8Array;
    assert.equal(o.length, img.length, s);
    assert.deepEqual(applyStyle(s, img, 64, 48), o, `${s} is not deterministic`);
    assert.ok(psnr(o, img) < 25, `${s} barely changes the image (${psnr(o, img).toFixed(1)} dB)`);
  });
  // Distinct looks, not one style under several names.
  for (let i = 0; i < outs.length; i++) for (let j = i + 1; j < outs.length; j++) assert.ok(psnr(outs[i] as Uint8Array, outs[j] as Uint8Array) < 25);
});

test('a style at twice the size, scaled back down, looks like the style at the small size', () => {
  for (const s of ['paint', 'ink']) {
    const small = applyStyle(s, scene(64, 48), 64, 48);
    const big = half(applyStyle(s, scene(128, 96), 128, 96), 128, 96);
    assert.ok(psnr(small, big) > 20, `${s}: ${psnr(small, big).toFixed(1)} dB between sizes`);
  }
});

test('ink lines get thicker with the image: the inked share of the picture stays put', () => {
  // With fixed pixel radii the lines stay 1-2 pixels wide, so doubling the size halves this share.
  const inked = (img: Uint8Array) => {
    let n = 0;
    for (let p = 0; p < img.length; p += 3) if (0.299 * (img[p] ?? 0) + 0.587 * (img[p + 1] ?? 0) + 0.114 * (img[p + 2] ?? 0) < 50) n++;
    return n / (img.length / 3);
  };
  const a = inked(applyStyle('ink', scene(96, 64), 96, 64));
  const b = inked(applyStyle('ink', scene(192, 128), 192, 128));
  assert.ok(a > 0.005, `too little ink to compare: ${a}`);
  assert.ok(b / a > 0.75 && b / a < 1.33, `inked share ${a.toFixed(3)} at 96x64 but ${b.toFixed(3)} at 192x128`);
});

test('applyStyle rejects unknown styles and wrong sizes', () => {
  assert.throws(() => applyStyle('oil', new Uint8Array(12), 2, 2), /unknown style "oil"/);
  assert.throws(() => applyStyle('paint', new Uint8Array(11), 2, 2), RangeError);
  assert.throws(() => applyStyle('ink', new Uint8Array(0), 0, 2), RangeError);
});
