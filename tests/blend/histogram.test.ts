// Histogram-preserving blend: the result carries the min-error composite's Lab statistics, where a
// plain cross-fade of two unrelated textures loses contrast.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addon, channelStats, rgbImage, texture } from './helpers.ts';

const W = 48;
const H = 40;

describe('histogramBlend', () => {
  const native = addon();
  const ta = texture(7);
  const tb = texture(8);
  const a = rgbImage(W, H, (x, y) => [40 + 180 * ta(x, y), 90 + 100 * ta(y, x), 60]);
  const b = rgbImage(W, H, (x, y) => [70, 30 + 200 * tb(x, y), 50 + 150 * tb(y, x)]);
  // Composite: left part from A, right part from B.
  const composite = rgbImage(W, H, (x, y) => {
    const src = x < 30 ? a : b;
    const i = (y * W + x) * 3;
    return [src[i]!, src[i + 1]!, src[i + 2]!];
  });

  it("reproduces the composite's Lab mean and standard deviation", async () => {
    const compLab = await native.rgbToLab({ rgb: composite, width: W, height: H });
    const want = channelStats(compLab, 3);
    for (const w of [0, 0.3, 0.5, 1]) {
      const { working, out } = await native.histogramBlend({ a, b, composite, w, width: W, height: H });
      const got = channelStats(working, 3);
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(got.mean[c]! - want.mean[c]!) < 1e-3, `w=${w} channel ${c} mean ${got.mean[c]} vs ${want.mean[c]}`);
        assert.ok(Math.abs(got.std[c]! - want.std[c]!) < 1e-3, `w=${w} channel ${c} std ${got.std[c]} vs ${want.std[c]}`);
      }
      // As bytes the statistics still hold closely; out-of-gamut Lab values are clipped, hence 5%.
      const outStats = channelStats(await native.rgbToLab({ rgb: out, width: W, height: H }), 3);
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(outStats.mean[c]! - want.mean[c]!) < 0.05 * want.std[c]! + 0.5, `w=${w} channel ${c} rounded mean ${outStats.mean[c]} vs ${want.mean[c]}`);
        assert.ok(Math.abs(outStats.std[c]! - want.std[c]!) < 0.05 * want.std[c]! + 0.5, `w=${w} channel ${c} rounded std ${outStats.std[c]} vs ${want.std[c]}`);
      }
    }
  });

  it('keeps the contrast a plain cross-fade loses', async () => {
    const w = 0.5;
    const { working } = await native.histogramBlend({ a, b, composite, w, width: W, height: H });
    const [labA, labB] = await Promise.all([native.rgbToLab({ rgb: a, width: W, height: H }), native.rgbToLab({ rgb: b, width: W, height: H })]);
    const faded = labA.map((v, i) => (1 - w) * v + w * labB[i]!);
    const fadedL = channelStats(faded, 3).std[0]!;
    const blendedL = channelStats(working, 3).std[0]!;
    assert.ok(blendedL > fadedL * 1.2, `histogram blend L std ${blendedL} vs cross-fade ${fadedL}`);
  });

  it('at w = 0 follows A up to an affine change per channel', async () => {
    // w = 0 leaves only A standardized, so the result correlates perfectly with A per channel.
    const { working } = await native.histogramBlend({ a, b, composite, w: 0, width: W, height: H });
    const labA = await native.rgbToLab({ rgb: a, width: W, height: H });
    const n = W * H;
    for (let c = 0; c < 3; c++) {
      const sa = channelStats(labA.filter((_, i) => i % 3 === c), 1);
      const sw = channelStats(working.filter((_, i) => i % 3 === c), 1);
      let cov = 0;
      for (let i = 0; i < n; i++) cov += (labA[3 * i + c]! - sa.mean[0]!) * (working[3 * i + c]! - sw.mean[0]!);
      const corr = cov / n / (sa.std[0]! * sw.std[0]!);
      assert.ok(corr > 0.9999, `channel ${c} correlation ${corr}`);
    }
  });
});
