// Damaged or mislabelled weights are refused at load with BAD_MODEL (CLI exit 3) naming the file
// and the tensor, instead of rendering a broken image: NaN/Inf in float data, integer dtypes on
// float weights, byte counts that disagree with the dtype, unknown dtypes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import {
  countNonFinite, readSafetensorsHeader, readTensorFloat32, writeSafetensors, SafetensorsError,
} from '../../../src-main/engine/weights/safetensors.ts';
import { loadControlNet, loadStableDiffusion } from '../../../src-main/engine/weights/checkpoint.ts';
import { applyLoras, parseLora } from '../../../src-main/engine/weights/lora.ts';
import { diffusersComponent } from '../../../src-main/engine/graph/diffusers-folder.ts';
import { compileModel } from '../../../src-main/engine/graph/compile.ts';
import { resolveModelFiles } from '../../../src-main/engine/pipeline/model-files.ts';
import { exitCodeFor } from '../../../src-main/cli/errors.ts';
import { EXIT } from '../../../src-main/cli/exit-codes.ts';
import { FIXTURES } from './fixtures.ts';

const tmp = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'weights-bad-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };
type Header = Record<string, Entry | Record<string, string>>;

/** Copies a safetensors file, letting `edit` change the header JSON and the data bytes in place. */
function rewrite(src: string, dest: string, edit: (header: Header, data: Buffer) => void): string {
  const b = fs.readFileSync(src);
  const n = Number(b.readBigUInt64LE(0));
  const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as Header;
  const data = Buffer.from(b.subarray(8 + n));
  edit(header, data);
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  fs.writeFileSync(dest, Buffer.concat([len, h, data]));
  return dest;
}

const isEntry = (name: string, e: unknown): e is Entry => name !== '__metadata__' && typeof e === 'object' && e !== null && 'dtype' in e;

function badModel(re: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof Error, String(e));
    assert.equal((e as { code?: string }).code, 'BAD_MODEL', e.message);
    assert.equal(exitCodeFor(e), EXIT.input);
    assert.match(e.message, re);
    return true;
  };
}

test('countNonFinite finds NaN and ±Inf by exponent bits in every float dtype, and only those', () => {
  const f32 = new Float32Array([0, -0, 3.4028234663852886e38, -1.17549435e-38, 1e-45, NaN, Infinity, -Infinity, 1]);
  assert.equal(countNonFinite(new Uint8Array(f32.buffer), 'F32'), 3);
  // F16: 65504 and -65504 are the largest finite; 0x7c00 +Inf, 0xfc00 -Inf, 0x7e00 NaN, 0x7c01 NaN
  const f16 = new Uint16Array([0x7bff, 0xfbff, 0x0001, 0x7c00, 0xfc00, 0x7e00, 0x3c00, 0x7c01, 0x0000]); // odd count: last lane alone
  assert.equal(countNonFinite(new Uint8Array(f16.buffer), 'F16'), 4);
  const f16tail = new Uint16Array([0x3c00, 0x3c00, 0x7c00]);
  assert.equal(countNonFinite(new Uint8Array(f16tail.buffer), 'F16'), 1, 'a non-finite value in the last odd lane');
  // BF16: 0x7f7f is the largest finite; 0x7f80 +Inf, 0xff80 -Inf, 0x7fc0 NaN. 0x7c00 is finite in BF16.
  const bf16 = new Uint16Array([0x7f7f, 0xff7f, 0x7c00, 0x7f80, 0xff80, 0x7fc0, 0x3f80, 0x0000]);
  assert.equal(countNonFinite(new Uint8Array(bf16.buffer), 'BF16'), 3);
  const f64 = new Float64Array([Number.MAX_VALUE, -Number.MIN_VALUE, 1e300, NaN, -Infinity, 0]);
  assert.equal(countNonFinite(new Uint8Array(f64.buffer), 'F64'), 2);
  // integers are never "non-finite"; an unaligned view is scanned correctly
  assert.equal(countNonFinite(new Uint8Array(new Int32Array([-1, 0x7f800000]).buffer), 'I32'), 0);
  const shifted = new Uint8Array(1 + f32.byteLength);
  shifted.set(new Uint8Array(f32.buffer), 1);
  assert.equal(countNonFinite(shifted.subarray(1), 'F32'), 3);
});

test('a float tensor holding NaN or Inf is refused naming the file, the tensor and the count', () => {
  const p = nodePath.join(tmp, 'nan.safetensors');
  writeSafetensors(p, {
    good: { dtype: 'F32', shape: [4], data: new Float32Array([1, 2, 3, 4]) },
    'down.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, NaN, 3, Infinity, 5, NaN]) },
    half: { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xfc00]) },
    brain: { dtype: 'BF16', shape: [2], data: new Uint16Array([0x7fc0, 0x3f80]) },
  });
  const h = readSafetensorsHeader(p).tensors;
  assert.deepEqual([...readTensorFloat32(p, h.get('good')!)], [1, 2, 3, 4]);
  assert.throws(() => readTensorFloat32(p, h.get('down.weight')!), badModel(/nan\.safetensors: tensor down\.weight holds 3 NaN or Inf values \(of 6\)/));
  assert.throws(() => readTensorFloat32(p, h.get('half')!), (e: unknown) => e instanceof SafetensorsError && /tensor half holds 1 NaN or Inf value /.test(e.message));
  assert.throws(() => readTensorFloat32(p, h.get('brain')!), /tensor brain holds 1 NaN/);
});

const TINY = nodePath.join(FIXTURES, 'tiny-sd.safetensors');
const UNET_W = 'model.diffusion_model.input_blocks.0.0.weight';

test('a UNet whose tensors are all NaN stops the real load path (resolve + compile) with BAD_MODEL', () => {
  const p = rewrite(TINY, nodePath.join(tmp, 'all-nan.safetensors'), (header, data) => {
    for (const [name, e] of Object.entries(header)) {
      if (isEntry(name, e) && name.startsWith('model.diffusion_model.')) data.fill(0xff, e.data_offsets[0], e.data_offsets[1]); // 0xffffffff is a NaN
    }
  });
  const files = resolveModelFiles({ model: p, configFrom: nodePath.join(FIXTURES, 'tiny-sd') });
  const cache = fs.mkdtempSync(nodePath.join(tmp, 'cache-'));
  assert.throws(
    () => compileModel(files.unet, { kind: 'unet', target: 'cpu', floatType: 'float32' }, cache),
    badModel(/all-nan\.safetensors: tensor model\.diffusion_model\.\S+ holds \d+ NaN or Inf values \(of \d+\)/),
  );
  assert.deepEqual(fs.readdirSync(cache).filter((n) => !n.includes('.tmp-')), [], 'no cache entry is left for a bad model');
  // the untouched text encoder of the same file still compiles
  compileModel(files.textEncoder, { kind: 'text-encoder', target: 'cpu', floatType: 'float32' }, cache);
});

test('F32 data labelled I32 (same byte count) is refused at load, naming the tensor', () => {
  const p = rewrite(TINY, nodePath.join(tmp, 'i32.safetensors'), (header) => {
    (header[UNET_W] as Entry).dtype = 'I32';
  });
  assert.throws(() => loadStableDiffusion(p), badModel(new RegExp(`i32\\.safetensors: tensor ${UNET_W.replace(/\./g, '\\.')} is I32, but the model needs floating-point weights`)));
  assert.throws(() => resolveModelFiles({ model: p, configFrom: nodePath.join(FIXTURES, 'tiny-sd') }), badModel(/is I32/));
  // the I64 position_ids the loader ignores do not trip the check
  assert.ok(loadStableDiffusion(TINY).ignored.some((k) => k.endsWith('position_ids')));
});

test('a dtype that disagrees with the byte count, or an unknown dtype, is refused naming the tensor', () => {
  const half = rewrite(TINY, nodePath.join(tmp, 'f16-label.safetensors'), (header) => {
    (header[UNET_W] as Entry).dtype = 'F16'; // the data_offsets still span F32 bytes: twice what F16 needs
  });
  assert.throws(() => loadStableDiffusion(half), badModel(new RegExp(`tensor ${UNET_W.replace(/\./g, '\\.')}: data_offsets \\[\\d+, \\d+\\] do not hold \\d+ bytes for F16`)));
  const f8 = rewrite(TINY, nodePath.join(tmp, 'f8.safetensors'), (header) => {
    (header[UNET_W] as Entry).dtype = 'F8_E4M3';
  });
  assert.throws(() => loadStableDiffusion(f8), badModel(/tensor model\.diffusion_model\.input_blocks\.0\.0\.weight: unsupported dtype F8_E4M3/));
});

test('diffusers component folders, ControlNets and LoRAs are scanned too', () => {
  // graph ModelSource over a diffusers component folder
  const folder = nodePath.join(tmp, 'vae');
  fs.cpSync(nodePath.join(FIXTURES, 'tiny-sd', 'vae'), folder, { recursive: true });
  const file = nodePath.join(folder, 'diffusion_pytorch_model.safetensors');
  rewrite(file, file, (header, data) => {
    const e = header['decoder.conv_out.bias'] as Entry;
    data.writeFloatLE(Infinity, e.data_offsets[0]);
  });
  const vae = diffusersComponent(folder).weights;
  assert.ok(vae.get('decoder.conv_in.bias').data.length > 0);
  assert.throws(() => vae.get('decoder.conv_out.bias'), badModel(/tensor decoder\.conv_out\.bias holds 1 NaN or Inf value \(of \d+\)/));

  // a ControlNet with an integer weight is refused when loaded
  const cn = rewrite(nodePath.join(FIXTURES, 'tiny-controlnet.safetensors'), nodePath.join(tmp, 'cn.safetensors'), (header) => {
    const name = Object.keys(header).find((k) => k.includes('input_hint_block') && k.endsWith('.weight'))!;
    (header[name] as Entry).dtype = 'I32';
  });
  assert.throws(() => loadControlNet(cn), badModel(/is I32/));

  // a LoRA whose up matrix holds NaN fails when merged; an integer alpha is accepted
  const base = loadStableDiffusion(TINY);
  const lora = rewrite(nodePath.join(FIXTURES, 'lora-kohya.safetensors'), nodePath.join(tmp, 'lora.safetensors'), (header, data) => {
    const up = Object.entries(header).find(([k, e]) => isEntry(k, e) && k.startsWith('lora_unet_') && k.endsWith('lora_up.weight'))!;
    const e = up[1] as Entry;
    if (e.dtype === 'F32') data.writeFloatLE(NaN, e.data_offsets[0]);
    else data.writeUInt16LE(0x7e00, e.data_offsets[0]);
    for (const [k, a] of Object.entries(header)) {
      if (isEntry(k, a) && k.endsWith('.alpha') && a.dtype === 'F32') {
        const v = data.readFloatLE(a.data_offsets[0]);
        a.dtype = 'I32';
        data.writeInt32LE(Math.round(v), a.data_offsets[0]);
      }
    }
  });
  const parsed = parseLora(lora, { unet: base.unet.keys(), textEncoder: base.textEncoder.keys() });
  assert.ok(parsed.pairs.some((p) => p.alpha !== null && Number.isInteger(p.alpha)), 'integer alpha read as a number');
  const merged = applyLoras(base.unet, 'unet', [{ lora: parsed, weight: 1 }]);
  assert.throws(() => {
    for (const p of parsed.pairs) if (p.component === 'unet') merged.get(p.target)!.read();
  }, badModel(/lora\.safetensors: tensor lora_unet_\S+lora_up\.weight holds 1 NaN or Inf value/));
});
