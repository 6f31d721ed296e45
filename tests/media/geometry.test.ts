import { test } from 'node:test';
import assert from 'node:assert/strict';
import { previewGeometry, workingGeometry } from '../../src-main/media/geometry.ts';
import { isMediaError } from '../../src-main/media/errors.ts';

test('720x528 → 704x512, aspect fixed by a 2+2 px centre crop instead of stretching', () => {
  const g = workingGeometry({ width: 720, height: 528 });
  assert.equal(g.width, 704);
  assert.equal(g.height, 512);
  assert.deepEqual(g.crop, { left: 0, right: 0, top: 2, bottom: 2 });
  assert.equal(g.filter, 'crop=720:524:0:2,scale=704:512:flags=bicubic,setsar=1');
});

test('portrait and 16:9 sources', () => {
  const portrait = workingGeometry({ width: 528, height: 720 });
  assert.deepEqual([portrait.width, portrait.height], [512, 704]);
  assert.deepEqual(portrait.crop, { left: 2, right: 2, top: 0, bottom: 0 });
  const hd = workingGeometry({ width: 1920, height: 1080 });
  assert.deepEqual([hd.width, hd.height], [896, 512]);
  assert.deepEqual(hd.crop, { left: 15, right: 15, top: 0, bottom: 0 });
  const exact = workingGeometry({ width: 1024, height: 768 }, { shortSide: 384 });
  assert.deepEqual([exact.width, exact.height], [512, 384]);
  assert.deepEqual(exact.crop, { left: 0, right: 0, top: 0, bottom: 0 });
  assert.equal(exact.filter, 'scale=512:384:flags=bicubic,setsar=1');
});

test('the artist crop is applied first and kept in the effective crop', () => {
  const g = workingGeometry({ width: 1920, height: 1080 }, { crop: { left: 100, right: 100, top: 0, bottom: 0 } });
  assert.deepEqual([g.width, g.height], [832, 512]);
  assert.deepEqual(g.crop, { left: 100, right: 100, top: 11, bottom: 11 });
  assert.equal(g.filter, 'crop=1720:1058:100:11,scale=832:512:flags=bicubic,setsar=1');
});

test('shortSide is rounded to a multiple of 64', () => {
  assert.equal(workingGeometry({ width: 640, height: 480 }, { shortSide: 500 }).height, 512);
  assert.equal(workingGeometry({ width: 640, height: 480 }, { shortSide: 10 }).height, 64);
});

test('every size: multiples of 64, short side exact, aspect within half a source pixel', () => {
  for (const [w, h] of [[160, 120], [1280, 720], [1080, 1920], [333, 777], [4096, 2160], [100, 100], [3000, 200]] as const) {
    for (const shortSide of [256, 512, 768]) {
      const g = workingGeometry({ width: w, height: h }, { shortSide });
      assert.equal(g.width % 64, 0);
      assert.equal(g.height % 64, 0);
      assert.equal(Math.min(g.width, g.height), shortSide);
      const usedW = w - g.crop.left - g.crop.right;
      const usedH = h - g.crop.top - g.crop.bottom;
      assert.ok(usedW > 0 && usedH > 0);
      assert.ok(Math.abs(usedW * g.height - usedH * g.width) <= Math.max(g.width, g.height) / 2, `${w}x${h}@${shortSide}`);
      assert.ok(Math.abs(g.crop.left - g.crop.right) <= 1 && Math.abs(g.crop.top - g.crop.bottom) <= 1, 'centred');
    }
  }
});

test('crops that leave nothing, or are not whole pixels, are rejected', () => {
  const bad = (crop: { left: number; right: number; top: number; bottom: number }) =>
    assert.throws(() => workingGeometry({ width: 640, height: 480 }, { crop }), (err) => isMediaError(err, 'INVALID_ARGUMENT'));
  bad({ left: 320, right: 320, top: 0, bottom: 0 });
  bad({ left: 0, right: 0, top: 500, bottom: 0 });
  bad({ left: -1, right: 0, top: 0, bottom: 0 });
  bad({ left: 1.5, right: 0, top: 0, bottom: 0 });
});

test('preview geometry keeps the display aspect at a given height', () => {
  const g = previewGeometry({ width: 160, height: 120 }, 48);
  assert.deepEqual([g.width, g.height], [64, 48]);
  assert.equal(g.filter, 'scale=64:48:flags=bicubic,setsar=1');
});
