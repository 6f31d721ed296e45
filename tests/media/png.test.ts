import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'fast-png';
import { decodePng, encodePng, toRgb } from '../../src-main/media/png.ts';
import { isMediaError } from '../../src-main/media/errors.ts';

function gradient(width: number, height: number, channels: number): Uint8Array {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  return data;
}

test('RGB and RGBA round-trip through PNG', () => {
  for (const channels of [3, 4] as const) {
    const data = gradient(13, 7, channels);
    const png = encodePng(data, 13, 7, channels);
    assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
    const back = decodePng(png);
    assert.equal(back.width, 13);
    assert.equal(back.height, 7);
    assert.equal(back.channels, channels);
    assert.deepEqual(back.data, data);
  }
});

test('size checks: wrong pixel count on encode, wrong image size on decode', () => {
  assert.throws(() => encodePng(new Uint8Array(10), 4, 4, 3), (err) => isMediaError(err, 'INVALID_IMAGE'));
  const png = encodePng(gradient(8, 8, 3), 8, 8, 3);
  assert.throws(() => decodePng(png, { width: 512, height: 512 }), (err) => {
    assert.ok(isMediaError(err, 'IMAGE_SIZE_MISMATCH'));
    assert.match(err.message, /8×8 but 512×512/);
    return true;
  });
  assert.equal(decodePng(png, { width: 8, height: 8 }).width, 8);
});

test('not a PNG → INVALID_IMAGE', () => {
  assert.throws(() => decodePng(new TextEncoder().encode('hello, not an image')), (err) => isMediaError(err, 'INVALID_IMAGE'));
});

test('16-bit and grey images are normalised to 8-bit RGB', () => {
  const deep = encode({ width: 2, height: 1, data: new Uint16Array([0xffff, 0x8000, 0x0100, 0, 0x1234, 0xfedc]), channels: 3, depth: 16 });
  assert.deepEqual([...decodePng(deep).data], [0xff, 0x80, 0x01, 0, 0x12, 0xfe]);
  const grey = decodePng(encode({ width: 2, height: 1, data: new Uint8Array([10, 200]), channels: 1, depth: 8 }));
  assert.equal(grey.channels, 1);
  assert.deepEqual([...toRgb(grey)], [10, 10, 10, 200, 200, 200]);
  const rgba = decodePng(encodePng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 2, 1, 4));
  assert.deepEqual([...toRgb(rgba)], [1, 2, 3, 5, 6, 7]);
});
