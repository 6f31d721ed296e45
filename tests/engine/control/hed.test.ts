// HED compiled from its original weights (graph/hed.ts) against controlnet-aux's
// ControlNetHED_Apache2 + HEDdetector post-processing on a tiny random-weight network
// (tools/reference/make_annotator_fixtures.py), float32, on the lane's provider.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { compileAnnotator } from '../../../src-main/engine/graph/annotator-compile.ts';
import { safetensorsSource } from '../../../src-main/engine/graph/safetensors-source.ts';
import { MissingWeightError } from '../../../src-main/engine/graph/tensor-source.ts';
import { laneSessionOptions, laneTarget } from '../../helpers/provider.ts';
import { ANNOTATOR_FIXTURES, annotatorRef, maxAbs, psnr } from './ref.ts';
import { relError } from '../../helpers/numeric.ts';

let cache: string;
before(() => {
  cache = mkdtempSync(join(tmpdir(), 'hed-'));
});
after(() => rmSync(cache, { recursive: true, force: true }));

const weightsFile = join(ANNOTATOR_FIXTURES, 'hed-tiny.safetensors');
const pthFile = join(ANNOTATOR_FIXTURES, 'hed-tiny.pth');

function planar(rgb: Uint8Array, w: number, h: number): Float32Array {
  const out = new Float32Array(3 * w * h);
  for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) out[c * w * h + p] = rgb[p * 3 + c]!;
  return out;
}

async function check(file: string, what: string): Promise<void> {
  const image = annotatorRef('hed.image');
  const want = annotatorRef('hed.edge');
  const [h, w] = image.dims as [number, number, number];
  const compiled = compileAnnotator({ weights: safetensorsSource(file), identity: file }, { kind: 'hed', target: laneTarget('cpu'), floatType: 'float32' }, cache);
  assert.equal(compiled.cacheHit, false);
  const s = await ort.InferenceSession.create(compiled.modelPath, laneSessionOptions());
  const r = await s.run({ image: new ort.Tensor('float32', planar(image.data as Uint8Array, w, h), [1, 3, h, w]) });
  const edge = r['edge']!;
  assert.deepEqual([...edge.dims], [1, 1, h, w]);
  const got = edge.data as Float32Array;
  const err = relError(got, want.data as Float32Array);
  console.log(`HED fp32 (${what}): max abs ${maxAbs(got, want.data as Float32Array).toExponential(2)}, rel ${err.toExponential(2)}, PSNR ${psnr(got, want.data as Float32Array, 1).toFixed(1)} dB`);
  assert.ok(err < 1e-4, `relative error ${err}`);
  // Same key, same entry.
  assert.equal(compileAnnotator({ weights: safetensorsSource(file), identity: file }, { kind: 'hed', target: laneTarget('cpu'), floatType: 'float32' }, cache).cacheHit, true);
}

test('HED graph matches controlnet-aux (side outputs resized, averaged, sigmoid) at odd sizes', () => check(weightsFile, 'safetensors'));

test('HED from the original PyTorch pickle layout (ControlNetHED.pth is a torch.save state dict)', () => check(pthFile, '.pth'));

test('HED weights missing a block: BAD_MODEL naming the weight, nothing left in the cache', () => {
  const source = safetensorsSource(weightsFile);
  const partial = {
    has: (n: string) => !n.startsWith('block4.') && source.has(n),
    get: (n: string) => {
      if (n.startsWith('block4.')) throw new MissingWeightError(n, 'the test file');
      return source.get(n);
    },
  };
  assert.throws(() => compileAnnotator({ weights: partial, identity: 'partial' }, { kind: 'hed', target: 'cpu', floatType: 'float32' }, cache),
    (e: Error & { code?: string }) => e.code === 'BAD_MODEL' && /block4\.convs\.0\.weight/.test(e.message));
  assert.ok(readdirSync(cache).every((d) => !d.includes('.tmp-')));
});
