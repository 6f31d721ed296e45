// A 3x5 pixel font, drawn at twice the size, to label benchmark images without a font library.
// Letters are drawn as capitals; characters without a glyph become a blank.

// Each glyph: five rows of three bits, most significant bit on the left.
const GLYPHS: Record<string, readonly number[]> = {
  a: [2, 5, 7, 5, 5], b: [6, 5, 6, 5, 6], c: [3, 4, 4, 4, 3], d: [6, 5, 5, 5, 6], e: [7, 4, 6, 4, 7],
  f: [7, 4, 6, 4, 4], g: [3, 4, 5, 5, 3], h: [5, 5, 7, 5, 5], i: [7, 2, 2, 2, 7], j: [1, 1, 1, 5, 2],
  k: [5, 5, 6, 5, 5], l: [4, 4, 4, 4, 7], m: [5, 7, 7, 5, 5], n: [6, 5, 5, 5, 5], o: [2, 5, 5, 5, 2],
  p: [6, 5, 6, 4, 4], q: [2, 5, 5, 6, 3], r: [6, 5, 6, 5, 5], s: [3, 4, 2, 1, 6], t: [7, 2, 2, 2, 2],
  u: [5, 5, 5, 5, 7], v: [5, 5, 5, 5, 2], w: [5, 5, 7, 7, 5], x: [5, 5, 2, 5, 5], y: [5, 5, 2, 2, 2],
  z: [7, 1, 2, 4, 7],
  0: [7, 5, 5, 5, 7], 1: [2, 6, 2, 2, 7], 2: [6, 1, 2, 4, 7], 3: [6, 1, 2, 1, 6], 4: [5, 5, 7, 1, 1],
  5: [7, 4, 6, 1, 6], 6: [3, 4, 7, 5, 7], 7: [7, 1, 1, 2, 2], 8: [7, 5, 7, 5, 7], 9: [7, 5, 7, 1, 6],
  '+': [0, 2, 7, 2, 0], '-': [0, 0, 7, 0, 0], '=': [0, 7, 0, 7, 0], '.': [0, 0, 0, 0, 2], ':': [0, 2, 0, 2, 0],
  '_': [0, 0, 0, 0, 7], '/': [1, 1, 2, 4, 4],
};

/** Draws `text` in black into an RGB image at (x, y); clipped at the image's edges. */
export function drawLabel(rgb: Uint8Array, width: number, height: number, x: number, y: number, text: string): void {
  const scale = 2;
  let cx = x;
  for (const ch of text.toLowerCase()) {
    const g = GLYPHS[ch];
    if (g) {
      for (let r = 0; r < 5; r++) {
        for (let c = 0; c < 3; c++) {
          if (!(((g[r] ?? 0) >> (2 - c)) & 1)) continue;
          for (let dy = 0; dy < scale; dy++) {
            for (let dx = 0; dx < scale; dx++) {
              const px = cx + c * scale + dx, py = y + r * scale + dy;
              if (px >= 0 && px < width && py >= 0 && py < height) rgb.fill(0, (py * width + px) * 3, (py * width + px) * 3 + 3);
            }
          }
        }
      }
    }
    cx += 4 * scale;
  }
}
