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
import { CONTEXT_INPUT_PREFIX, CONTEXT_OUTPUT_PREFIX } from '../../../src-main/engine/graph/unet.ts';
import type { CrossFrameLayers } from '../../../src-main/engine/graph/unet.ts';
import { diffusersComponent } from '../../../src-main/engine/graph/diffusers-folder.ts';
import { FIXTURES, assertClose, refF32, refTensor, tensor } from './ref.ts';

const TOL = 1e-4;
const ALL_LAYERS = JSON.parse(readFileSync(join(FIXTURES, 'ref/xframe_layers.json'), 'utf8')) as string[];
let cache: string;

before(() => {
  cache = mkdtempSync(join(tmpdir(), 'graph-xframe-'));
});
after(() => rmSync(cache, { recursive: true, force: true }));

async function compile(crossFrame: CrossFrameLayers, replace: boolean): Promise<{ compiled: CompiledModel; session: ort.InferenceSession }> {
  const compiled = compileModel(diffusersComponent(join(FIXTURES, 'tiny-sd/unet')), {
    kind: 'unet', target: 'cpu', floatType: 'float32',
    unet: { controlnetResiduals: false, crossFrame, crossFrameReplace: replace },
  }, cache);
  return { compiled, session: await ort.InferenceSession.create(compiled.modelPath, { intraOpNumThreads: 1 }) };
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
  assert.deepEqual((await compile('none', false)).compiled.crossFrameLayers, []);
  assert.deepEqual([...(await compile('decoder', false)).compiled.crossFrameLayers].sort(), up.sort());
  // Tiny model by position: the up blocks after the deepest attention block (640/320-channel blocks in SD 1.5).
  assert.deepEqual([...(await compile('decoder-loose', false)).compiled.crossFrameLayers].sort(), up.filter((l) => !l.startsWith('up_blocks.1.')).sort());
  assert.deepEqual([...(await compile('all', false)).compiled.crossFrameLayers].sort(), [...ALL_LAYERS].sort());
});

test('record variant outputs every hooked attn1 context and the ordinary noise prediction', async () => {
  const { session } = await compile('all', false);
  for (const [tag, latent] of [['a', 'xframe.in.latent_a'], ['b', 'xframe.in.latent_b']] as const) {
    const r = await session.run(feeds(latent));
    for (const layer of ALL_LAYERS) assertClose(r[`${CONTEXT_OUTPUT_PREFIX}${layer}`], refF32(`xframe.ctx_${tag}.${layer}`), TOL, `ctx ${tag} ${layer}`);
  }
  const plain = await session.run(feeds('xframe.in.latent_c'));
  assertClose(plain['noise_pred'], refF32('xframe.out.eps_c_plain'), TOL, 'plain');
});

for (const [mode, refName] of [['decoder', 'xframe.out.eps_c_up'], ['all', 'xframe.out.eps_c_all']] as const) {
  test(`replace variant (${mode}): keys/values from anchor + previous contexts (2×tokens)`, async () => {
    const { compiled, session } = await compile(mode, true);
    const f = feeds('xframe.in.latent_c');
    for (const layer of compiled.crossFrameLayers) f[`${CONTEXT_INPUT_PREFIX}${layer}`] = anchorAndPrevious(layer);
    const r = await session.run(f);
    assertClose(r['noise_pred'], refF32(refName), TOL, mode);
    // Its own contexts still come out, for the next frame to use.
    assert.ok(r[`${CONTEXT_OUTPUT_PREFIX}${compiled.crossFrameLayers[0]!}`]);
  });
}

test('replace variant fed its own contexts reproduces ordinary attention', async () => {
  const record = await compile('decoder-loose', false);
  const own = await record.session.run(feeds('xframe.in.latent_c'));
  const { compiled, session } = await compile('decoder-loose', true);
  const f = feeds('xframe.in.latent_c');
  for (const layer of compiled.crossFrameLayers) f[`${CONTEXT_INPUT_PREFIX}${layer}`] = own[`${CONTEXT_OUTPUT_PREFIX}${layer}`]!;
  assertClose((await session.run(f))['noise_pred'], refF32('xframe.out.eps_c_plain'), TOL, 'self contexts');
});
