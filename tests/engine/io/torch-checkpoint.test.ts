// PyTorch checkpoints (torch.save, zip and legacy layouts) read without running them, checked
// bit-exactly against safetensors twins written by tools/reference/make_torch_checkpoints.py,
// and wired through every loader (checkpoint, ControlNet, VAE, LoRA, diffusers .bin folders).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { readWeightsIndex, sniffWeightsFormat } from '../../../src-main/engine/weights/tensor-file.ts';
import { readTensorBytes, readTensorFloat32, type SafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import { loadControlNet, loadStableDiffusion, loadVae, type TensorMap } from '../../../src-main/engine/weights/checkpoint.ts';
import { parseLora } from '../../../src-main/engine/weights/lora.ts';
import { storedZip, writeTorchZip, type TensorToSave } from '../../fuzz/generators/pickle.ts';
import { FIXTURES } from './fixtures.ts';

const TORCH = nodePath.join(FIXTURES, 'torch');
const tmp = (): string => fs.mkdtempSync(nodePath.join(os.tmpdir(), 'rr-torch-'));

/** Every tensor of `twin` is in `file` with the same dtype, shape and bytes (and float32 values). */
function assertSameAsTwin(file: string, twin: string): SafetensorsHeader {
  const a = readWeightsIndex(file);
  const b = readWeightsIndex(twin);
  assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort(), `${file}: names`);
  for (const [name, tb] of b.tensors) {
    const ta = a.tensors.get(name)!;
    assert.equal(ta.dtype, tb.dtype, `${name} dtype`);
    assert.deepEqual(ta.shape, tb.shape, `${name} shape`);
    assert.ok(readTensorBytes(file, ta).equals(readTensorBytes(twin, tb)), `${file}: ${name} bytes`);
    assert.deepEqual(readTensorFloat32(file, ta, { allowInteger: true }), readTensorFloat32(twin, tb, { allowInteger: true }), `${name} values`);
  }
  return a;
}

for (const layout of ['zip', 'legacy'] as const) {
  for (const dtype of ['fp32', 'fp16', 'bf16'] as const) {
    test(`torch.save ${layout} layout, ${dtype}: bit-exact against its safetensors twin`, () => {
      const file = nodePath.join(TORCH, `small-${layout}-${dtype}.pt`);
      const h = assertSameAsTwin(file, nodePath.join(TORCH, `small-${dtype}.safetensors`));
      assert.equal(h.metadata.format, `torch-${layout}`);
      assert.equal(h.tensors.get('conv.weight')!.dtype, { fp32: 'F32', fp16: 'F16', bf16: 'BF16' }[dtype]);
      assert.deepEqual(h.tensors.get('norm.scale')!.shape, []);
      assert.deepEqual(h.tensors.get('empty')!.shape, [0, 3]);
    });
  }
  test(`torch.save ${layout} layout: shared storage and views (offset, stride, transpose, expand) gathered exactly`, () => {
    const file = nodePath.join(TORCH, `views-${layout}.pt`);
    const h = assertSameAsTwin(file, nodePath.join(TORCH, 'views.safetensors'));
    const t = h.tensors;
    // views of one storage: contiguous ones are plain ranges inside it, the others carry strides
    assert.equal(t.get('shared')!.begin, t.get('base')!.begin);
    assert.equal(t.get('row')!.begin, t.get('base')!.begin + 2 * 8 * 4);
    assert.equal(t.get('row')!.strides, undefined);
    assert.deepEqual(t.get('t')!.strides, [1, 8]);
    assert.deepEqual(t.get('col')!.strides, [8]);
    assert.deepEqual(t.get('expand')!.strides, [0, 1]);
    assert.deepEqual(t.get('slice')!.strides, [16, 1]);
    assert.equal(t.get('half_view')!.dtype, 'F16');
    assert.deepEqual(readTensorFloat32(file, t.get('t')!).subarray(0, 3), Float32Array.from([0, 8 / 7, 16 / 7]));
  });
}

test('a Lightning checkpoint: its state_dict is read; optimizer state, callbacks and Namespace stay inert', () => {
  const h = assertSameAsTwin(nodePath.join(TORCH, 'lightning.ckpt'), nodePath.join(TORCH, 'small-fp32.safetensors'));
  assert.ok(!h.tensors.has('exp_avg') && !h.tensors.has('epoch'));
});

test('the format comes from the content: a renamed checkpoint or safetensors file reads as what it is', () => {
  const dir = tmp();
  const asSafetensors = nodePath.join(dir, 'model.safetensors');
  fs.copyFileSync(nodePath.join(TORCH, 'small-legacy-fp16.pt'), asSafetensors);
  assert.equal(sniffWeightsFormat(asSafetensors), 'torch-legacy');
  assertSameAsTwin(asSafetensors, nodePath.join(TORCH, 'small-fp16.safetensors'));
  const zipAsSafetensors = nodePath.join(dir, 'zip.safetensors');
  fs.copyFileSync(nodePath.join(TORCH, 'small-zip-bf16.pt'), zipAsSafetensors);
  assertSameAsTwin(zipAsSafetensors, nodePath.join(TORCH, 'small-bf16.safetensors'));
  const asCkpt = nodePath.join(dir, 'model.ckpt');
  fs.copyFileSync(nodePath.join(TORCH, 'small-fp32.safetensors'), asCkpt);
  assert.equal(sniffWeightsFormat(asCkpt), 'safetensors');
  assertSameAsTwin(asCkpt, nodePath.join(TORCH, 'small-fp32.safetensors'));
});

test('damaged or foreign files are refused with BAD_MODEL and a clear message', () => {
  const dir = tmp();
  const write = (name: string, bytes: Uint8Array): string => {
    const p = nodePath.join(dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  };
  const refused = (p: string, re: RegExp): void => {
    assert.throws(() => readWeightsIndex(p), (e: unknown) => (e as { code?: string }).code === 'BAD_MODEL' && re.test((e as Error).message));
  };
  const zip = fs.readFileSync(nodePath.join(TORCH, 'small-zip-fp32.pt'));
  refused(write('cut.pt', zip.subarray(0, zip.length - 30)), /end-of-central-directory|not a readable/);
  refused(write('plain.pkl', Buffer.from([0x80, 0x02, 0x7d, 0x2e])), /not a PyTorch checkpoint \(no torch magic number\)/);
  const legacy = fs.readFileSync(nodePath.join(TORCH, 'small-legacy-fp32.pt'));
  refused(write('cut-legacy.pt', legacy.subarray(0, legacy.length - 10)), /runs past the end of the file/);
  refused(write('other.zip', storedZip([['notes/readme.txt', Buffer.from('hello')]])), /not a PyTorch checkpoint \(no <archive>\/data\.pkl\)/);
});

// ------------------------------------------------------------------ through the loaders

function tensorsOf(files: readonly string[]): Map<string, TensorToSave> {
  const out = new Map<string, TensorToSave>();
  for (const f of files) {
    const h = readWeightsIndex(f);
    for (const [k, i] of h.tensors) out.set(k, { dtype: i.dtype, shape: i.shape, bytes: readTensorBytes(f, i) });
  }
  return out;
}

function assertSameTensors(a: TensorMap, b: TensorMap, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: key sets`);
  for (const [k, ta] of a) {
    assert.deepEqual(ta.shape, b.get(k)!.shape, `${what}: ${k} shape`);
    assert.deepEqual(ta.read(), b.get(k)!.read(), `${what}: ${k} values`);
  }
}

const SD = nodePath.join(FIXTURES, 'tiny-sd.safetensors');
const CN = nodePath.join(FIXTURES, 'tiny-controlnet.safetensors');
let rerenderFile = '';
/** Rerender's ControlNet .ckpt: control_model.* beside a whole SD 1.5, in one file (built once). */
function rerenderLayout(): string {
  if (!rerenderFile) {
    rerenderFile = nodePath.join(tmp(), 'rerender-controlnet.ckpt');
    fs.writeFileSync(rerenderFile, writeTorchZip(tensorsOf([SD, CN]), 'state_dict'));
  }
  return rerenderFile;
}

test("Rerender's ControlNet layout (control_model.* beside a whole SD 1.5 in one .ckpt) loads as the checkpoint", () => {
  const sd = SD;
  const file = rerenderLayout();
  const model = loadStableDiffusion(file);
  const want = loadStableDiffusion(sd);
  assertSameTensors(model.unet, want.unet, 'unet');
  assertSameTensors(model.vae, want.vae, 'vae');
  assertSameTensors(model.textEncoder, want.textEncoder, 'text encoder');
  assert.ok(model.ignored.some((k) => k.startsWith('control_model.')));
  assertSameTensors(loadVae(file), want.vae, 'vae from the same file');
});

// loadControlNet (checkpoint.ts, not this change's) takes detectKind's 'sd-checkpoint' for such a
// file and refuses it; it must also accept control_model.* beside model.diffusion_model.*.
test("Rerender's ControlNet layout loads as the ControlNet too", () => {
  assertSameTensors(loadControlNet(rerenderLayout()), loadControlNet(CN), 'controlnet');
});

test('a diffusers folder whose weights are PyTorch .bin files loads like its safetensors original', () => {
  const src = nodePath.join(FIXTURES, 'tiny-sd');
  const dir = nodePath.join(tmp(), 'tiny-sd-bin');
  fs.cpSync(src, dir, { recursive: true });
  for (const [sub, stem, bin] of [['unet', 'diffusion_pytorch_model', 'diffusion_pytorch_model'], ['vae', 'diffusion_pytorch_model', 'diffusion_pytorch_model'], ['text_encoder', 'model', 'pytorch_model']] as const) {
    const st = nodePath.join(dir, sub, `${stem}.safetensors`);
    fs.writeFileSync(nodePath.join(dir, sub, `${bin}.bin`), writeTorchZip(tensorsOf([st])));
    fs.rmSync(st);
  }
  const a = loadStableDiffusion(dir);
  const b = loadStableDiffusion(src);
  assertSameTensors(a.unet, b.unet, 'unet');
  assertSameTensors(a.vae, b.vae, 'vae');
  assertSameTensors(a.textEncoder, b.textEncoder, 'text encoder');
});

test('a LoRA saved with torch (.pt) parses to the same pairs as its safetensors original', () => {
  const model = loadStableDiffusion(nodePath.join(FIXTURES, 'tiny-sd.safetensors'));
  const names = { unet: [...model.unet.keys()], textEncoder: [...model.textEncoder.keys()] };
  const st = nodePath.join(FIXTURES, 'lora-kohya-ldm-f16.safetensors');
  const pt = nodePath.join(tmp(), 'lora.pt');
  fs.writeFileSync(pt, writeTorchZip(tensorsOf([st])));
  const a = parseLora(pt, names);
  const b = parseLora(st, names);
  assert.equal(a.pairs.length, 7);
  assert.deepEqual(a.pairs.map((p) => p.target), b.pairs.map((p) => p.target));
  for (let i = 0; i < a.pairs.length; i++) {
    assert.deepEqual(readTensorFloat32(pt, a.pairs[i]!.down), readTensorFloat32(st, b.pairs[i]!.down));
  }
});
