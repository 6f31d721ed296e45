// Each compiled graph against the diffusers/transformers references (float32, on the lane's
// provider: see tests/helpers/provider.ts), plus the per-target op variants against each other.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { compileModel } from '../../../src-main/engine/graph/compile.ts';
import type { CompileOptions, ModelKind } from '../../../src-main/engine/graph/compile.ts';
import { diffusersComponent } from '../../../src-main/engine/graph/diffusers-folder.ts';
import { FIXTURES, assertClose, refF32, refTensor, relError, tensor } from './ref.ts';
import { laneRunsFloat16, laneSessionOptions, laneTarget, ON_WEBGPU } from '../../helpers/provider.ts';

const FP32_TOL = 1e-4;
let cache: string;

const folders: Record<ModelKind, string> = {
  'text-encoder': 'tiny-sd/text_encoder',
  unet: 'tiny-sd/unet',
  controlnet: 'tiny-controlnet',
  'vae-encoder': 'tiny-sd/vae',
  'vae-decoder': 'tiny-sd/vae',
};

async function session(options: CompileOptions): Promise<ort.InferenceSession> {
  const compiled = compileModel(diffusersComponent(join(FIXTURES, folders[options.kind])), { ...options, target: laneTarget(options.target) }, cache);
  return ort.InferenceSession.create(compiled.modelPath, laneSessionOptions());
}

function unetFeeds(): Record<string, ort.Tensor> {
  return {
    sample: refTensor('unet.in.latent'),
    timestep: tensor(Float32Array.of(500), [1]),
    encoder_hidden_states: refTensor('te.last_hidden_state.0'),
  };
}

function controlnetFeeds(): Record<string, ort.Tensor> {
  return { ...unetFeeds(), controlnet_cond: refTensor('controlnet.in.cond'), conditioning_scale: tensor(Float32Array.of(1), [1]) };
}

function residualFeeds(): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = { mid_res: refTensor('controlnet.out.mid') };
  for (let i = 0; i < 12; i++) feeds[`down_res_${i}`] = refTensor(`controlnet.out.down.${i}`);
  return feeds;
}

before(() => {
  cache = mkdtempSync(join(tmpdir(), 'graph-models-'));
});
after(() => rmSync(cache, { recursive: true, force: true }));

describe('float32 graphs match the references', () => {
  test('CLIP text encoder (causal mask, quick_gelu, final layer norm)', async () => {
    const s = await session({ kind: 'text-encoder', target: 'cpu', floatType: 'float32' });
    for (const i of [0, 1]) {
      const r = await s.run({ input_ids: refTensor(`te.ids.${i}`) });
      assertClose(r['last_hidden_state'], refF32(`te.last_hidden_state.${i}`), FP32_TOL, `prompt ${i}`);
    }
  });

  test('UNet without ControlNet residuals', async () => {
    const s = await session({ kind: 'unet', target: 'cpu', floatType: 'float32', unet: { controlnetResiduals: false } });
    assert.ok(!s.inputNames.includes('mid_res'));
    const r = await s.run(unetFeeds());
    assertClose(r['noise_pred'], refF32('unet.out.eps'), FP32_TOL, 'eps');
  });

  test('UNet with the 13 ControlNet residuals', async () => {
    const s = await session({ kind: 'unet', target: 'cpu', floatType: 'float32' });
    const r = await s.run({ ...unetFeeds(), ...residualFeeds() });
    assertClose(r['noise_pred'], refF32('unet.out.eps_controlled'), FP32_TOL, 'eps_controlled');
  });

  test('ControlNet residuals, scaled by conditioning_scale', async () => {
    const s = await session({ kind: 'controlnet', target: 'cpu', floatType: 'float32' });
    const r = await s.run(controlnetFeeds());
    for (let i = 0; i < 12; i++) assertClose(r[`down_res_${i}`], refF32(`controlnet.out.down.${i}`), FP32_TOL, `down ${i}`);
    assertClose(r['mid_res'], refF32('controlnet.out.mid'), FP32_TOL, 'mid');
    const half = await s.run({ ...controlnetFeeds(), conditioning_scale: tensor(Float32Array.of(0.5), [1]) });
    const mid = refF32('controlnet.out.mid');
    assertClose(half['mid_res'], { data: mid.data.map((v) => v * 0.5), dims: mid.dims }, FP32_TOL, 'mid at scale 0.5');
  });

  test('VAE encoder → moments', async () => {
    const s = await session({ kind: 'vae-encoder', target: 'cpu', floatType: 'float32' });
    const r = await s.run({ image: refTensor('vae.in.image') });
    assertClose(r['moments'], refF32('vae.out.moments'), FP32_TOL, 'moments');
  });

  test('VAE decoder takes UNet-space latents (applies 1/scaling_factor inside)', async () => {
    const s = await session({ kind: 'vae-decoder', target: 'cpu', floatType: 'float32' });
    const z = refF32('vae.in.z');
    const r = await s.run({ latents: tensor(z.data.map((v) => v * 0.18215), z.dims) });
    assertClose(r['image'], refF32('vae.out.decoded'), FP32_TOL, 'decoded');
  });
});

describe('op variants agree', () => {
  test('webgpu-target graph (InstanceNormalization GroupNorm, MatMul attention) equals the cpu-target graph', async () => {
    const cpu = await (await session({ kind: 'unet', target: 'cpu', floatType: 'float32' })).run({ ...unetFeeds(), ...residualFeeds() });
    const webgpu = await session({ kind: 'unet', target: 'webgpu', floatType: 'float32' });
    const r = await webgpu.run({ ...unetFeeds(), ...residualFeeds() });
    assert.ok(relError(r['noise_pred']!.data as Float32Array, cpu['noise_pred']!.data as Float32Array) < 1e-5);
    assertClose(r['noise_pred'], refF32('unet.out.eps_controlled'), FP32_TOL, 'webgpu variant');
  });

  test('GroupNorm forms: native GroupNormalization-21, InstanceNormalization and decomposed agree', async () => {
    const outputs: Float32Array[] = [];
    for (const groupNorm of ['native', 'instance', 'decomposed'] as const) {
      const s = await session({ kind: 'vae-encoder', target: 'cpu', floatType: 'float32', ops: { groupNorm } });
      const r = await s.run({ image: refTensor('vae.in.image') });
      assertClose(r['moments'], refF32('vae.out.moments'), FP32_TOL, groupNorm);
      outputs.push(r['moments']!.data as Float32Array);
    }
    // On the CPU the forms share kernels and agree closely; on WebGPU the native form's nodes run
    // on the CPU beside GPU ones, so they agree only as well as each matches the reference.
    const agree = ON_WEBGPU ? FP32_TOL : 1e-5;
    assert.ok(relError(outputs[1]!, outputs[0]!) < agree && relError(outputs[2]!, outputs[0]!) < agree);
  });

  test('attention split into query slices (to fit a GPU binding limit) matches the references', async () => {
    // The tiny UNet's latent is 8×8: 64 queries at level 0, 16 at level 1.
    const unet = await session({ kind: 'unet', target: 'webgpu', floatType: 'float32', ops: { attentionChunks: [3, 2] } });
    assertClose((await unet.run({ ...unetFeeds(), ...residualFeeds() }))['noise_pred'], refF32('unet.out.eps_controlled'), FP32_TOL, 'split UNet');
    const dec = await session({ kind: 'vae-decoder', target: 'webgpu', floatType: 'float32', ops: { attentionChunks: [5] } });
    const z = refF32('vae.in.z');
    assertClose((await dec.run({ latents: tensor(z.data.map((v) => v * 0.18215), z.dims) }))['image'], refF32('vae.out.decoded'), FP32_TOL, 'split VAE decoder');
  });

  test('cuda-target graph loads and runs on CPU', async () => {
    const s = await session({ kind: 'controlnet', target: 'cuda', floatType: 'float32' });
    const r = await s.run(controlnetFeeds());
    assertClose(r['mid_res'], refF32('controlnet.out.mid'), FP32_TOL, 'mid');
  });
});

describe('float16 graphs', () => {
  // fp16 rounds weights and activations to 11 significant bits (unit roundoff
  // 4.9e-4). Norms and softmax stay float32, so errors come from ~50 rounded
  // layers in series growing roughly like sqrt(depth): a few 1e-3 of the
  // output range is expected (measured 1–3e-3); 1e-2 flags a real defect such
  // as an fp16 overflow or a norm computed in half.
  const FP16_TOL = 1e-2;

  test('UNet + ControlNet fp16 stay within tolerance of the fp32 references', async (t) => {
    if (!(await laneRunsFloat16())) return t.skip('this WebGPU adapter has no 16-bit float shaders');
    const cn = await session({ kind: 'controlnet', target: 'cpu', floatType: 'float16' });
    const res = await cn.run(controlnetFeeds());
    assertClose(res['mid_res'], refF32('controlnet.out.mid'), FP16_TOL, 'controlnet fp16');
    const unet = await session({ kind: 'unet', target: 'cpu', floatType: 'float16' });
    const r = await unet.run({ ...unetFeeds(), ...residualFeeds() });
    assertClose(r['noise_pred'], refF32('unet.out.eps_controlled'), FP16_TOL, 'unet fp16');
  });

  test('text encoder and VAE fp16', async (t) => {
    if (!(await laneRunsFloat16())) return t.skip('this WebGPU adapter has no 16-bit float shaders');
    const te = await session({ kind: 'text-encoder', target: 'cpu', floatType: 'float16' });
    assertClose((await te.run({ input_ids: refTensor('te.ids.0') }))['last_hidden_state'], refF32('te.last_hidden_state.0'), FP16_TOL, 'te fp16');
    const enc = await session({ kind: 'vae-encoder', target: 'webgpu', floatType: 'float16' });
    assertClose((await enc.run({ image: refTensor('vae.in.image') }))['moments'], refF32('vae.out.moments'), FP16_TOL, 'vae enc fp16');
  });
});

test('one img2img ControlNet step with guidance (batch 2) reproduces the reference run', async () => {
  const cn = await session({ kind: 'controlnet', target: 'cpu', floatType: 'float32' });
  const unet = await session({ kind: 'unet', target: 'cpu', floatType: 'float32' });
  const latents = refF32('run.noised_latents');
  const twice = (x: { data: Float32Array; dims: number[] }): ort.Tensor => {
    const data = new Float32Array(x.data.length * 2);
    data.set(x.data, 0);
    data.set(x.data, x.data.length);
    return tensor(data, [2, ...x.dims.slice(1)]);
  };
  const neg = refF32('te.last_hidden_state.1');
  const pos = refF32('te.last_hidden_state.0');
  const emb = new Float32Array(neg.data.length * 2);
  emb.set(neg.data, 0);
  emb.set(pos.data, neg.data.length);
  const feeds = { sample: twice(latents), timestep: tensor(Float32Array.of(501), [1]), encoder_hidden_states: tensor(emb, [2, 77, 32]) };
  const res = await cn.run({ ...feeds, controlnet_cond: twice(refF32('run.in.control')), conditioning_scale: tensor(Float32Array.of(1), [1]) });
  const eps = (await unet.run({ ...feeds, ...res }))['noise_pred']!.data as Float32Array;
  // DDIM (eta 0) from t=501 to 251 with classifier-free guidance 7.5, written out by hand.
  const alphas = refF32('ddim.alphas_cumprod').data;
  const [at, ap] = [alphas[501]!, alphas[251]!];
  const n = latents.data.length;
  const next = latents.data.map((x, i) => {
    const e = eps[i]! + 7.5 * (eps[n + i]! - eps[i]!);
    const x0 = (x - Math.sqrt(1 - at) * e) / Math.sqrt(at);
    return Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * e;
  });
  assertClose(tensor(next, latents.dims), refF32('run.latents_after_step.0'), FP32_TOL, 'latents after step 0');
});
