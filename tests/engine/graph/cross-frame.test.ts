// Cross-frame attention hooks: recorded attn1 contexts and UNet outputs with
// replaced keys/values against the CrossFrameAttnProcessor references.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { compileModel } from '../../../src-main/engine/graph/compile.ts';
import type { CompiledModel } from '../../../src-main/engine/graph/compile.ts';
import { CONTEXT_OUTPUT_PREFIX, contextInputName } from '../../../src-main/engine/graph/unet.ts';
import type { CrossFrameLayers } from '../../../src-main/engine/graph/unet.ts';
import { diffusersComponent } from '../../../src-main/engine/graph/diffusers-folder.ts';
import { FIXTURES, assertClose, refF32, refTensor, tensor } from './ref.ts';
import { toHalf } from '../../../src-main/engine/half.ts';
import { laneRunsFloat16, laneSessionOptions, laneTarget } from '../../helpers/provider.ts';

const TOL = 1e-4;
const ALL_LAYERS = JSON.parse(readFileSync(join(FIXTURES, 'ref/xframe_layers.json'), 'utf8')) as string[];
let cache: string;

before(() => {
  cache = mkdtempSync(join(tmpdir(), 'graph-xframe-'));
});
after(() => rmSync(cache, { recursive: true, force: true }));

async function compile(crossFrame: CrossFrameLayers, sources: number, contextType: 'float32' | 'float16' = 'float32'): Promise<{ compiled: CompiledModel; session: ort.InferenceSession }> {
  const compiled = compileModel(diffusersComponent(join(FIXTURES, 'tiny-sd/unet')), {
    kind: 'unet', target: laneTarget('cpu'), floatType: 'float32',
    unet: { controlnetResiduals: false, crossFrame, crossFrameSources: sources, contextType },
  }, cache);
  return { compiled, session: await ort.InferenceSession.create(compiled.modelPath, laneSessionOptions()) };
}

function feeds(latent: string): Record<string, ort.Tensor> {
  return { sample: refTensor(latent), timestep: tensor(Float32Array.of(500), [1]), encoder_hidden_states: refTensor('te.last_hidden_state.0') };
}

/** cat([ctx_a, ctx_b], dim=1) of one layer's [1, HW, C] contexts. */
function anchorAndPrevious(layer: string): ort.Tensor {
  const a = refF32(`xframe.ctx_a.${layer}`);
  const b = refF32(`xframe.ctx_b.${layer}`);
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data, 0);
  data.set(b.data, a.data.length);
  return tensor(data, [1, a.dims[1]! + b.dims[1]!, a.dims[2]!]);
}

test('layer selection: none, decoder, decoder-loose, all', async () => {
  const up = ALL_LAYERS.filter((l) => l.startsWith('up_blocks.'));
  assert.deepEqual((await compile('none', 0)).compiled.crossFrameLayers, []);
  assert.deepEqual([...(await compile('decoder', 0)).compiled.crossFrameLayers].sort(), up.sort());
  // Tiny model by position: the up blocks after the deepest attention block (640/320-channel blocks in SD 1.5).
  assert.deepEqual([...(await compile('decoder-loose', 0)).compiled.crossFrameLayers].sort(), up.filter((l) => !l.startsWith('up_blocks.1.')).sort());
  assert.deepEqual([...(await compile('all', 0)).compiled.crossFrameLayers].sort(), [...ALL_LAYERS].sort());
});

test('record variant outputs every hooked attn1 context and the ordinary noise prediction', async () => {
  const { session } = await compile('all', 0);
  for (const [tag, latent] of [['a', 'xframe.in.latent_a'], ['b', 'xframe.in.latent_b']] as const) {
    const r = await session.run(feeds(latent));
    for (const layer of ALL_LAYERS) assertClose(r[`${CONTEXT_OUTPUT_PREFIX}${layer}`], refF32(`xframe.ctx_${tag}.${layer}`), TOL, `ctx ${tag} ${layer}`);
  }
  const plain = await session.run(feeds('xframe.in.latent_c'));
  assertClose(plain['noise_pred'], refF32('xframe.out.eps_c_plain'), TOL, 'plain');
});

for (const [mode, refName] of [['decoder', 'xframe.out.eps_c_up'], ['all', 'xframe.out.eps_c_all']] as const) {
  test(`replace variant (${mode}): keys/values from anchor + previous contexts, concatenated in the graph`, async () => {
    const { compiled, session } = await compile(mode, 2);
    const f = feeds('xframe.in.latent_c');
    for (const layer of compiled.crossFrameLayers) {
      f[contextInputName(0, layer)] = refTensor(`xframe.ctx_a.${layer}`);
      f[contextInputName(1, layer)] = refTensor(`xframe.ctx_b.${layer}`);
    }
    const r = await session.run(f);
    assertClose(r['noise_pred'], refF32(refName), TOL, mode);
    // Its own contexts still come out, for the next frame to use.
    assert.ok(r[`${CONTEXT_OUTPUT_PREFIX}${compiled.crossFrameLayers[0]!}`]);
  });
}

test('one source of 2×tokens (anchor ‖ previous made outside) gives the same output', async () => {
  const { compiled, session } = await compile('decoder', 1);
  const f = feeds('xframe.in.latent_c');
  for (const layer of compiled.crossFrameLayers) f[contextInputName(0, layer)] = anchorAndPrevious(layer);
  assertClose((await session.run(f))['noise_pred'], refF32('xframe.out.eps_c_up'), TOL, 'one source');
});

test('replace variant fed its own contexts reproduces ordinary attention', async () => {
  const record = await compile('decoder-loose', 0);
  const own = await record.session.run(feeds('xframe.in.latent_c'));
  const { compiled, session } = await compile('decoder-loose', 1);
  const f = feeds('xframe.in.latent_c');
  for (const layer of compiled.crossFrameLayers) f[contextInputName(0, layer)] = own[`${CONTEXT_OUTPUT_PREFIX}${layer}`]!;
  assertClose((await session.run(f))['noise_pred'], refF32('xframe.out.eps_c_plain'), TOL, 'self contexts');
});

test('float16 contexts: half-size outputs, and as inputs they stay close to the float32 reference', async (t) => {
  if (!(await laneRunsFloat16())) return t.skip('this WebGPU adapter has no 16-bit float shaders');
  const record = await compile('decoder', 0, 'float16');
  const rec = await record.session.run(feeds('xframe.in.latent_a'));
  const layer = record.compiled.crossFrameLayers[0]!;
  const ctx = rec[`${CONTEXT_OUTPUT_PREFIX}${layer}`]!;
  assert.equal(ctx.type, 'float16');
  assert.equal((ctx.data as unknown as ArrayBufferView).byteLength, 2 * ctx.size, 'two bytes a value');
  const { compiled, session } = await compile('decoder', 2, 'float16');
  const half = (name: string): ort.Tensor => {
    const t = refF32(name);
    // Raw bits as a Uint16Array: ort.Tensor would re-view them as a Float16Array, which the binding cannot read.
    return { type: 'float16', dims: t.dims, data: toHalf(t.data), location: 'cpu', size: t.data.length } as unknown as ort.Tensor;
  };
  const f = feeds('xframe.in.latent_c');
  for (const l of compiled.crossFrameLayers) {
    f[contextInputName(0, l)] = half(`xframe.ctx_a.${l}`);
    f[contextInputName(1, l)] = half(`xframe.ctx_b.${l}`);
  }
  // Rounding each context to 11 significant bits moves the prediction by ~1e-3 of its range.
  assertClose((await session.run(f))['noise_pred'], refF32('xframe.out.eps_c_up'), 5e-3, 'fp16 contexts');
});
