import { describe, expect, it } from 'vitest';
import { describeSettings, humanize, parseNumberField, patchFor, valueAt } from '../../src-renderer/lib/settings-fields.ts';

const settings = {
  prompt: 'a watercolor painting',
  negativePrompt: 'blurry',
  seed: 7,
  steps: 20,
  guidance: 7.5,
  strength: 0.75,
  model: null,
  loras: [],
  crossFrame: { crossPeriod: [0, 1], looseCrossFrame: false, maskStrength: 0.5, freeu: { enabled: false, b1: 1.3 } },
  propagation: { patchSize: 5, pyramidLevels: null, uniformity: 3500 },
};

describe('settings fields', () => {
  it('describes fields and nested groups generically', () => {
    const g = describeSettings(settings);
    const kinds = Object.fromEntries(g.fields.map((f) => [f.key, f.kind]));
    expect(kinds).toMatchObject({ prompt: 'textarea', negativePrompt: 'textarea', seed: 'integer', steps: 'integer', guidance: 'number', model: 'nullable-text', loras: 'json' });
    expect(g.groups.map((x) => x.label)).toEqual(['Cross frame', 'Propagation']);
    const cross = g.groups[0]!;
    expect(cross.fields.find((f) => f.key === 'crossPeriod')?.kind).toBe('range-pair');
    expect(cross.fields.find((f) => f.key === 'looseCrossFrame')?.kind).toBe('boolean');
    expect(cross.groups[0]?.path).toEqual(['crossFrame', 'freeu']);
    const levels = g.groups[1]!.fields.find((f) => f.key === 'pyramidLevels');
    expect(levels).toMatchObject({ kind: 'integer', nullable: true, min: 1, max: 16 });
    expect(humanize('negativePrompt')).toBe('Negative prompt');
  });

  it('validates numbers before anything is sent', () => {
    const steps = describeSettings(settings).fields.find((f) => f.key === 'steps')!;
    expect(parseNumberField('25', steps)).toEqual({ ok: true, value: 25 });
    expect(parseNumberField('2.5', steps).ok).toBe(false);
    expect(parseNumberField('0', steps)).toEqual({ ok: false, error: 'Steps must be at least 1' });
    expect(parseNumberField('abc', steps).ok).toBe(false);
    expect(parseNumberField('', steps).ok).toBe(false);
    const strength = describeSettings(settings).fields.find((f) => f.key === 'strength')!;
    expect(parseNumberField('1.5', strength).ok).toBe(false);
    expect(parseNumberField('0.4', strength)).toEqual({ ok: true, value: 0.4 });
    const levels = describeSettings(settings).groups[1]!.fields.find((f) => f.key === 'pyramidLevels')!;
    expect(parseNumberField('', levels)).toEqual({ ok: true, value: null });
  });

  it('builds a partial update for one leaf', () => {
    expect(patchFor(['crossFrame', 'freeu', 'b1'], 1.1)).toEqual({ crossFrame: { freeu: { b1: 1.1 } } });
    expect(patchFor(['seed'], 3)).toEqual({ seed: 3 });
    expect(valueAt(settings, ['crossFrame', 'freeu', 'b1'])).toBe(1.3);
    expect(valueAt(settings, ['nope', 'x'])).toBeUndefined();
  });
});
