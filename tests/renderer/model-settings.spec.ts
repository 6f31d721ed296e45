import { describe, expect, it } from 'vitest';
import {
  checkControlnets, controlnetsToDrafts,
  artistReason, checkCanny, checkLoras, lorasToDrafts, parseModelPath, readModelSettings, MODEL_SETTING_KEYS,
} from '../../src-renderer/lib/model-settings.ts';
import { settingsSections } from '../../src-renderer/lib/settings-fields.ts';

/** A copy of `rows` with row `i` changed, as the editor's row list does. */
const edit = <D,>(rows: readonly D[], i: number, change: Partial<D>): D[] => rows.map((r, j) => (j === i ? { ...r, ...change } : r));

describe('model settings', () => {
  it('reads the model part of the settings, with the services defaults where absent', () => {
    expect(readModelSettings({})).toEqual({ model: null, controlnetModel: null, kind: 'canny', extraControlnets: [], loras: [], lowThreshold: 50, highThreshold: 100, scale: 0.7, precision: 'auto' });
    // A project from before the precision choice, or a value this build does not know: automatic.
    expect(readModelSettings({ precision: 'fp8' }).precision).toBe('auto');
    const m = readModelSettings({
      model: '/m/sd',
      controlnetModel: '/m/cn.safetensors',
      loras: [{ path: '/l/a.safetensors', weight: 0.5 }, { path: '/l/b.safetensors' }, { weight: 2 }, 'junk'],
      controlnet: { kind: 'hed', lowThreshold: 20, highThreshold: 200, scale: 1.2 },
      extraControlnets: [{ path: '/m/depth', kind: 'depth', scale: 0.4 }, { path: '/m/x', kind: 'normal' }, { kind: 'hed' }],
      precision: 'fp16',
    });
    expect(m).toEqual({
      model: '/m/sd',
      controlnetModel: '/m/cn.safetensors',
      kind: 'hed',
      extraControlnets: [{ path: '/m/depth', kind: 'depth', scale: 0.4 }, { path: '/m/x', kind: 'canny', scale: 1 }],
      loras: [{ path: '/l/a.safetensors', weight: 0.5 }, { path: '/l/b.safetensors', weight: 1 }],
      lowThreshold: 20,
      highThreshold: 200,
      scale: 1.2,
      precision: 'fp16',
    });
  });

  it('accepts absolute model paths, empty for none, and says what is wrong otherwise', () => {
    expect(parseModelPath('  /models/sd15  ', 'Checkpoint')).toEqual({ ok: true, value: '/models/sd15' });
    expect(parseModelPath('C:\\models\\sd.safetensors', 'Checkpoint')).toEqual({ ok: true, value: 'C:\\models\\sd.safetensors' });
    expect(parseModelPath('', 'Checkpoint')).toEqual({ ok: true, value: null });
    expect(parseModelPath('', 'LoRA 1', true)).toEqual({ ok: false, error: 'LoRA 1 needs a path' });
    const rel = parseModelPath('models/sd', 'Checkpoint');
    expect(rel.ok).toBe(false);
    expect(!rel.ok && rel.error).toMatch(/^Checkpoint: give the full path/);
    expect(parseModelPath('/a\nb', 'Checkpoint').ok).toBe(false);
    expect(parseModelPath('/m/v1-5.ckpt', 'Checkpoint')).toEqual({ ok: true, value: '/m/v1-5.ckpt' });
    expect(parseModelPath('/l/style', 'LoRA 1', true, 'lora')).toEqual({ ok: false, error: 'LoRA 1: a LoRA is a .safetensors (or PyTorch .pt/.pth/.ckpt/.bin) file' });
    expect(parseModelPath('/l/style.SafeTensors', 'LoRA 1', true, 'lora')).toEqual({ ok: true, value: '/l/style.SafeTensors' });
  });

  it('edits LoRA rows and saves the list only when every row is valid', () => {
    let d = lorasToDrafts([{ path: '/l/a.safetensors', weight: 0.8 }]);
    expect(d).toEqual([{ path: '/l/a.safetensors', weight: '0.8' }]);
    d = [...d, { path: '', weight: '1' }];
    expect(d[1]).toEqual({ path: '', weight: '1' });
    let c = checkLoras(d);
    expect(c.value).toBeNull();
    expect(c.errors).toEqual([null, 'LoRA 2 needs a path']);
    d = edit(d, 1, { path: '/l/b.safetensors', weight: '9' });
    expect(checkLoras(d).errors[1]).toBe('LoRA 2 weight must be at most 4');
    d = edit(d, 1, { weight: '-0.5' });
    c = checkLoras(d);
    expect(c.value).toEqual([{ path: '/l/a.safetensors', weight: 0.8 }, { path: '/l/b.safetensors', weight: -0.5 }]);
    expect(checkLoras(edit(d, 1, { path: '/l/a.safetensors' })).errors[1]).toBe('LoRA 2: this file is already in the list');
    d = d.slice(1);
    expect(checkLoras(d).value).toEqual([{ path: '/l/b.safetensors', weight: -0.5 }]);
    expect(checkLoras([]).value).toEqual([]);
  });

  it('checks the Canny thresholds and the ControlNet scale', () => {
    expect(checkCanny({ lowThreshold: '40', highThreshold: '120', scale: '0.9' })).toEqual({ value: { lowThreshold: 40, highThreshold: 120, scale: 0.9 }, errors: {} });
    expect(checkCanny({ lowThreshold: '130', highThreshold: '120', scale: '1' }).errors).toEqual({ lowThreshold: 'Low threshold must not exceed the high threshold' });
    const bad = checkCanny({ lowThreshold: '4.5', highThreshold: '300', scale: '' });
    expect(bad.value).toBeNull();
    expect(bad.errors).toEqual({
      lowThreshold: 'Low threshold must be a whole number',
      highThreshold: 'High threshold must be at most 255',
      scale: 'ControlNet scale needs a number',
    });
  });

  it('leaves the model keys out of the generic parameter list', () => {
    const s = settingsSections({ prompt: '', model: null, controlnetModel: null, loras: [], controlnet: { scale: 1 }, precision: 'auto', seed: 1 }, MODEL_SETTING_KEYS);
    expect(s.map((x) => x.id)).toEqual(['look']);
    expect(s[0]!.fields.map((f) => f.key)).toEqual(['prompt', 'seed']);
  });

  it('checks extra ControlNet rows: full path, control type, scale 0–2, no ControlNet twice; at most three', () => {
    let d: ReturnType<typeof controlnetsToDrafts> = [{ path: '', kind: 'canny', scale: '1' }];
    expect(checkControlnets(d).errors).toEqual(['ControlNet 2 needs a path']);
    d = edit(d, 0, { path: 'rel/cn' });
    expect(checkControlnets(d).errors[0]).toMatch(/full path/);
    d = edit(d, 0, { path: '/m/a', kind: 'normal' as never });
    expect(checkControlnets(d).errors[0]).toBe('ControlNet 2: choose its control type');
    d = edit(d, 0, { kind: 'depth', scale: '2.5' });
    expect(checkControlnets(d).value).toBeNull();
    d = edit(d, 0, { scale: '0.5' });
    expect(checkControlnets(d, '/m/a').errors[0]).toBe('ControlNet 2: this ControlNet is already in use');
    expect(checkControlnets(d, '/m/first')).toEqual({ value: [{ path: '/m/a', kind: 'depth', scale: 0.5 }], errors: [null] });
    d = [...d, { path: '/m/a', kind: 'canny', scale: '1' }];
    expect(checkControlnets(d).errors[1]).toBe('ControlNet 3: this ControlNet is already in use');
    expect(checkControlnets([...d, d[0]!, d[0]!]).errors.at(-1)).toBe('At most 3 more ControlNets');
    expect(controlnetsToDrafts([{ path: '/m/b', kind: 'hed', scale: 0.3 }])).toEqual([{ path: '/m/b', kind: 'hed', scale: '0.3' }]);
    expect(MODEL_SETTING_KEYS).toContain('extraControlnets');
  });
});

describe('model reasons for artists', () => {
  // The services' message (studio/models.ts modelMessage), shortened: its shape is what matters.
  const message = (problems: string[]) =>
    [
      'Key-frame translation needs a Stable Diffusion 1.5 model and a Canny ControlNet:',
      ...problems.map((p) => `  - ${p}`),
      'Set their paths with the model settings, or `rerender translate <project> --model PATH --controlnet PATH`.',
      '  SD 1.5: https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5 (v1-5-pruned-emaonly.safetensors)',
    ].join('\n');

  it('says the first problem in one short line, with the whole message as details', () => {
    const text = message(['Canny ControlNet: not set (settings.controlnetModel)']);
    expect(artistReason(text)).toEqual({ line: 'Choose the ControlNet model.', details: text });
    expect(artistReason(message(['Canny ControlNet: /m/cn does not exist'])).line).toBe('The ControlNet model file is missing.');
    expect(artistReason(message(['Stable Diffusion 1.5 model: not set (settings.model)', 'Canny ControlNet: not set (settings.controlnetModel)'])).line).toBe(
      'Choose the Stable Diffusion model and the ControlNet model.',
    );
    expect(artistReason(message(['Stable Diffusion 1.5 model: /m/x holds a controlnet, not a Stable Diffusion 1.5 checkpoint', 'LoRA: /l/a does not exist'])).line).toBe(
      'The Stable Diffusion model file is the wrong kind of model (and 1 more).',
    );
    expect(artistReason(message(['ControlNet 2 (Depth): /m/d holds no weights (.safetensors or .bin)'])).line).toBe('The ControlNet 2 model folder has no weights in it.');
    const line = artistReason(message(['LoRA: /l/a.safetensors is not a weights file (.safetensors or a torch.save checkpoint)'])).line;
    expect(line).toBe('The LoRA file is not a model.');
    expect(line).not.toMatch(/https?:|rerender |`/);
  });

  it('keeps short reasons as they are and shortens other long ones to their first sentence', () => {
    expect(artistReason('The translation engine is not available.')).toEqual({ line: 'The translation engine is not available.', details: null });
    expect(artistReason('Checking the engine…')).toEqual({ line: 'Checking the engine…', details: null });
    const open = 'Open a project first: key-frame translation uses the Stable Diffusion 1.5 model and Canny ControlNet set in its settings.';
    expect(artistReason(open)).toEqual({ line: 'Open a project first.', details: open });
    const addon = 'The native addon is not built (/x/rerender.node is missing). Build it with `node scripts/build-native.js`.';
    expect(artistReason(addon)).toEqual({ line: 'The video engine is not installed in this build.', details: addon });
  });
});
