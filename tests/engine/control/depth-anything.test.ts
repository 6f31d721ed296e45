// Depth Anything compiled from transformers-layout weights (graph/depth-anything.ts) against
// transformers' DepthAnythingForDepthEstimation on a tiny random-weight network
// (tools/reference/make_annotator_fixtures.py), float32, on the lane's provider.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { compileAnnotator } from '../../../src-main/engine/graph/annotator-compile.ts';
import { safetensorsSource } from '../../../src-main/engine/graph/safetensors-source.ts';
import { laneSessionOptions, laneTarget } from '../../helpers/provider.ts';
import { relError } from '../../helpers/numeric.ts';
import { ANNOTATOR_FIXTURES, annotatorRef, maxAbs, psnr } from './ref.ts';

let cache: string;
before(() => {
  cache = mkdtempSync(join(tmpdir(), 'depth-'));
});
after(() => rmSync(cache, { recursive: true, force: true }));

const weightsFile = join(ANNOTATOR_FIXTURES, 'depth-tiny.safetensors');
const config = JSON.parse(readFileSync(join(ANNOTATOR_FIXTURES, 'depth-tiny.config.json'), 'utf8')) as Record<string, unknown>;

test('Depth Anything graph matches transformers (bicubic position grid 4×4 → 5×7, DPT neck and head)', async () => {
  const image = annotatorRef('depth.image');
  const want = annotatorRef('depth.depth');
  const [h, w] = image.dims as [number, number, number];
  const rgb = image.data as Uint8Array;
  const planar = new Float32Array(3 * w * h);
  for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) planar[c * w * h + p] = rgb[p * 3 + c]!;
  const compiled = compileAnnotator({ weights: safetensorsSource(weightsFile), identity: 'depth-tiny', config }, { kind: 'depth-anything', target: laneTarget('cpu'), floatType: 'float32' }, cache);
  const s = await ort.InferenceSession.create(compiled.modelPath, laneSessionOptions());
  const r = await s.run({ image: new ort.Tensor('float32', planar, [1, 3, h, w]) });
  const depth = r['depth']!;
  assert.deepEqual([...depth.dims], want.dims);
  const got = depth.data as Float32Array;
  const ref = want.data as Float32Array;
  const err = relError(got, ref);
  let peak = 0;
  for (const v of ref) peak = Math.max(peak, v);
  console.log(`Depth Anything fp32: max abs ${maxAbs(got, ref).toExponential(2)}, rel ${err.toExponential(2)}, PSNR ${psnr(got, ref, peak).toFixed(1)} dB`);
  assert.ok(err < 1e-4, `relative error ${err}`);
});
