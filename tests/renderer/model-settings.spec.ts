import { describe, expect, it } from 'vitest';
import {
  checkControlnets, controlnetsToDrafts,
  checkCanny, checkLoras, lorasToDrafts, parseModelPath, readModelSettings, MODEL_SETTING_KEYS,
} from '../../src-renderer/lib/model-settings.ts';
import { describeSettings } from '../../src-renderer/lib/settings-fields.ts';

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
    const g = describeSettings({ prompt: '', model: null, controlnetModel: null, loras: [], controlnet: { scale: 1 }, precision: 'auto', seed: 1 }, [], 'Settings', MODEL_SETTING_KEYS);
    expect(g.fields.map((f) => f.key)).toEqual(['prompt', 'seed']);
    expect(g.groups).toEqual([]);
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
