import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'fast-png';
import { inflateSync } from 'node:zlib';
import { decodePng, encodePng, encodePngAsync, readPngHeader, toRgb } from '../../src-main/media/png.ts';
import { isMediaError } from '../../src-main/media/errors.ts';
import { craftedPng } from '../helpers/crafted-png.ts';

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

test('every channel count and odd sizes round-trip, the same bytes from the thread-pool encoder', async () => {
  for (const [w, h] of [[1, 1], [13, 7], [1, 9], [9, 1]] as const) {
    for (const channels of [1, 2, 3, 4] as const) {
      const data = gradient(w, h, channels);
      const png = encodePng(data, w, h, channels);
      const back = decodePng(png);
      assert.deepEqual([back.width, back.height, back.channels], [w, h, channels]);
      assert.deepEqual(back.data, data, `${w}x${h}x${channels}`);
      assert.deepEqual(await encodePngAsync(data, w, h, channels), png);
    }
  }
  await assert.rejects(encodePngAsync(new Uint8Array(10), 4, 4, 3), (err) => isMediaError(err, 'INVALID_IMAGE'));
});

test('rows are written with the Up filter, each the difference to the row above', () => {
  const data = gradient(5, 3, 3);
  const png = encodePng(data, 5, 3, 3);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const idatLength = view.getUint32(33); // the chunk after the signature (8) and IHDR (25)
  assert.equal(String.fromCharCode(...png.subarray(37, 41)), 'IDAT');
  const rows = inflateSync(png.subarray(41, 41 + idatLength));
  assert.equal(rows.length, 3 * 16);
  for (let y = 0; y < 3; y++) {
    assert.equal(rows[y * 16], 2, `row ${y} filter`);
    for (let x = 0; x < 15; x++) {
      const above = y === 0 ? 0 : (data[(y - 1) * 15 + x] as number);
      assert.equal(rows[y * 16 + 1 + x], ((data[y * 15 + x] as number) - above) & 0xff);
    }
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

test('a tiny PNG declaring 20000×20000 is refused from its header, before any inflating', () => {
  const bomb = craftedPng(20000, 20000, 4 << 20);
  assert.ok(bomb.length < 64 * 1024, `the crafted file is small (${bomb.length} bytes)`);
  assert.deepEqual(readPngHeader(bomb), { width: 20000, height: 20000, bitDepth: 8, colorType: 0 });
  const started = performance.now();
  assert.throws(() => decodePng(bomb), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TOO_LARGE');
    assert.match(err.message, /20000×20000/);
    return true;
  });
  // Also with an expected size: the header alone decides.
  assert.throws(() => decodePng(bomb, { width: 64, height: 64 }), (err: Error & { code?: string }) => err.code === 'TOO_LARGE');
  const ms = performance.now() - started;
  assert.ok(ms < 50, `refused in ${ms.toFixed(1)} ms`);
});

test('an image of the wrong size is refused from its header even when its data is broken', () => {
  // 8×8 declared, data that would not inflate: the size check comes first, nothing is inflated.
  const png = Buffer.from(craftedPng(8, 8, 72));
  const idat = png.indexOf('IDAT', 0, 'latin1');
  png.fill(0xff, idat + 4, idat + 10);
  assert.throws(() => decodePng(png, { width: 16, height: 16 }), (err) => isMediaError(err, 'IMAGE_SIZE_MISMATCH'));
  assert.throws(() => decodePng(png), (err) => isMediaError(err, 'INVALID_IMAGE'));
  assert.throws(() => decodePng(craftedPng(0, 8, 8)), (err) => isMediaError(err, 'INVALID_IMAGE'));
  assert.throws(() => decodePng(craftedPng(16385, 1, 8)), (err: Error & { code?: string }) => err.code === 'TOO_LARGE');
});
