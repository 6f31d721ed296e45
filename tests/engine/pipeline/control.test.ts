// ControlNet preprocessors: native Canny on synthetic images, and the ONNX
// annotator path (a stand-in model built here; real HED/depth are user-provided).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { annotatorPath, cannyPreprocessor, loadCanny, onnxPreprocessor } from '../../../src-main/engine/control/index.ts';
import type { RgbImage } from '../../../src-main/engine/control/index.ts';
import { GraphBuilder } from '../../../src-main/engine/graph/builder.ts';
import { InferenceHost } from '../../../src-main/engine/runtime/inference-host.ts';

const canny = loadCanny();
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'control-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A `value` square [x0, x1) × [y0, y1) on black. */
function square(w: number, h: number, x0: number, y0: number, x1: number, y1: number, value = 255): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data.fill(value, (y * w + x) * 3, (y * w + x) * 3 + 3);
  return { data, width: w, height: h, channels: 3 };
}

function edgeSet(img: RgbImage): Set<string> {
  const s = new Set<string>();
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 3;
      assert.ok(img.data[i] === img.data[i + 1] && img.data[i] === img.data[i + 2], 'grey replicated to 3 channels');
      assert.ok(img.data[i] === 0 || img.data[i] === 255);
      if (img.data[i] === 255) s.add(`${x},${y}`);
    }
  }
  return s;
}

test('Canny: a white square on black gives edges only on its border, along every side', async () => {
  const [x0, y0, x1, y1] = [10, 12, 30, 28];
  const out = await canny(square(40, 40, x0, y0, x1, y1));
  assert.deepEqual([out.width, out.height, out.channels, out.data.length], [40, 40, 3, 40 * 40 * 3]);
  const edges = edgeSet(out);
  assert.ok(edges.size > 0);
  for (const key of edges) {
    const [x, y] = key.split(',').map(Number) as [number, number];
    // The step lies between pixels; an edge pixel sits on one side of it, never further.
    const nearX = (x === x0 - 1 || x === x0 || x === x1 - 1 || x === x1) && y >= y0 - 1 && y <= y1;
    const nearY = (y === y0 - 1 || y === y0 || y === y1 - 1 || y === y1) && x >= x0 - 1 && x <= x1;
    assert.ok(nearX || nearY, `edge at ${key} is off the border`);
  }
  // Each side is traced along (all but its corners).
  const count = (pred: (x: number, y: number) => boolean): number => [...edges].filter((k) => pred(...(k.split(',').map(Number) as [number, number]))).length;
  assert.ok(count((x, y) => (y === y0 - 1 || y === y0) && x > x0 + 1 && x < x1 - 2) >= x1 - x0 - 4, 'top');
  assert.ok(count((x, y) => (y === y1 - 1 || y === y1) && x > x0 + 1 && x < x1 - 2) >= x1 - x0 - 4, 'bottom');
  assert.ok(count((x, y) => (x === x0 - 1 || x === x0) && y > y0 + 1 && y < y1 - 2) >= y1 - y0 - 4, 'left');
  assert.ok(count((x, y) => (x === x1 - 1 || x === x1) && y > y0 + 1 && y < y1 - 2) >= y1 - y0 - 4, 'right');
});

test('Canny: thresholds and pre-blur change the result', async () => {
  const dim = square(32, 32, 8, 8, 24, 24, 40);
  assert.ok(edgeSet(await canny(dim, { low: 50, high: 100 })).size > 0, 'a faint square passes low thresholds');
  assert.equal(edgeSet(await canny(dim, { low: 400, high: 800 })).size, 0, 'and not high ones');
  const noisy = square(32, 32, 8, 8, 24, 24);
  for (let i = 0; i < noisy.data.length; i += 7) noisy.data[i] = noisy.data[i]! ^ 0x30;
  const sharp = edgeSet(await canny(noisy, { low: 50, high: 100 }));
  const blurred = edgeSet(await canny(noisy, { low: 50, high: 100, blur: 5 }));
  assert.notDeepEqual([...sharp].sort(), [...blurred].sort());
  // Grey and RGBA inputs work; the output is always RGB.
  const grey = { data: new Uint8Array(32 * 32), width: 32, height: 32, channels: 1 };
  for (let y = 8; y < 24; y++) grey.data.fill(255, y * 32 + 8, y * 32 + 24);
  assert.deepEqual(edgeSet(await cannyPreprocessor().run(grey)), edgeSet(await canny(square(32, 32, 8, 8, 24, 24))));
});

test('Canny: bad arguments throw', async () => {
  const img = square(16, 16, 4, 4, 12, 12);
  await assert.rejects(canny(img, { low: 200, high: 100 }), RangeError);
  await assert.rejects(canny(img, { blur: 4 }), RangeError);
  await assert.rejects(canny(img, { low: -1 }), RangeError);
  await assert.rejects(canny(img, { aperture: 4 }), RangeError);
  await assert.rejects(canny({ ...img, data: img.data.subarray(1) }), RangeError);
  await assert.rejects(canny({ ...img, channels: 2 }), RangeError);
  await assert.rejects(canny({ data: [1, 2, 3], width: 1, height: 1, channels: 3 } as unknown as RgbImage), TypeError);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(canny(img, {}, ac.signal), { name: 'AbortError' });
});

test('ONNX annotators: a clear message naming the file when absent; a provided model runs', async () => {
  const host = new InferenceHost({ provider: 'cpu' });
  try {
    const models = join(dir, 'models');
    await assert.rejects(onnxPreprocessor('hed', models, host), (e: Error & { code?: string }) => e.code === 'MODEL_MISSING' && e.message.includes(annotatorPath(models, 'hed')));
    await assert.rejects(onnxPreprocessor('depth', models, host), /depth\.onnx/);
    // Stand-in "HED": logits = mean over channels − 127.5 (sigmoid → bright where the image is).
    const b = new GraphBuilder({ name: 'hed-standin', floatType: 'float32', opset: [{ domain: '', version: 17 }] });
    const x = b.input('image', [1, 3, 'h', 'w']);
    const mean = b.op1('ReduceMean', [x], { axes: { ints: [1] }, keepdims: { i: 1 } });
    b.output(b.op1('Sub', [mean, b.constFloat([127.5], [1])]), 'edges', [1, 1, 'h', 'w']);
    mkdirSync(join(models, 'annotators'), { recursive: true });
    writeFileSync(annotatorPath(models, 'hed'), b.finish());
    const hed = await onnxPreprocessor('hed', models, host);
    const out = await hed.run(square(20, 20, 4, 4, 12, 12));
    assert.deepEqual([out.width, out.height, out.channels], [20, 20, 3]);
    assert.equal(out.data[(8 * 20 + 8) * 3], 255);
    assert.equal(out.data[(18 * 20 + 18) * 3], 0);
  } finally {
    await host.close();
  }
});
