import { describe, expect, it } from 'vitest';
import { applySettingsPatch, defaultSettings } from '../../src-main/project/settings.ts';
import { presetById } from '../../src-main/project/presets.ts';
import { MODEL_SETTING_KEYS } from '../../src-renderer/lib/model-settings.ts';
import {
  FIELD_TEXT, SECTIONS, describeChanges, fieldFor, formatValue, fromShown, humanize, leafPaths, parseNumberField, patchFor, settingsSections, toShown, valueAt,
} from '../../src-renderer/lib/settings-fields.ts';

const defaults = defaultSettings() as unknown as Record<string, unknown>;

describe('settings fields', () => {
  it('names every stored setting: a new one cannot go unlabelled', () => {
    const missing = leafPaths(defaults).map((p) => p.join('.')).filter((k) => !Object.hasOwn(FIELD_TEXT, k));
    expect(missing).toEqual([]);
    for (const [key, t] of Object.entries(FIELD_TEXT)) {
      expect(t.label.length, key).toBeGreaterThan(0);
      expect(t.help.length, key).toBeGreaterThan(0);
    }
    // The engineer's words are gone from the labels.
    const labels = Object.values(FIELD_TEXT).map((t) => t.label).join('|');
    expect(labels).not.toMatch(/iters|pass3x3|\bB1\b|\bS2\b|Uniformity/);
    // Labels shown in the generic panel are unique, so a change list is never ambiguous.
    const shown = settingsSections(defaults, MODEL_SETTING_KEYS).flatMap((s) => s.fields.map((f) => f.label));
    expect(new Set(shown).size).toBe(shown.length);
  });

  it('groups the settings into Look, Key frames, Consistency, Propagation and Advanced (folded), with one Seed', () => {
    const sections = settingsSections(defaults, MODEL_SETTING_KEYS);
    expect(sections.map((s) => s.label)).toEqual(SECTIONS.map((s) => s.label));
    expect(sections.find((s) => s.id === 'advanced')?.open).toBe(false);
    const all = sections.flatMap((s) => s.fields.map((f) => f.path.join('.')));
    expect(all.filter((k) => /(^|\.)seed$/.test(k))).toEqual(['seed']);
    expect(all.some((k) => MODEL_SETTING_KEYS.some((m) => k === m || k.startsWith(`${m}.`)))).toBe(false);
    expect(sections[0]!.fields.map((f) => f.key)).toEqual(['prompt', 'negativePrompt', 'strength', 'guidance', 'seed']);
    expect(fieldFor(['seed'], 0).kind).toBe('seed');
    expect(fieldFor(['propagation', 'flowMethod'], 'dis-fine').kind).toBe('choice');
    // A setting this table does not know still shows, under Advanced, named from its key.
    const extra = settingsSections({ ...defaults, brandNewKnob: 3 }, MODEL_SETTING_KEYS).find((s) => s.id === 'advanced')!;
    expect(extra.fields.at(-1)).toMatchObject({ label: 'Brand new knob', kind: 'number' });
    expect(humanize('negativePrompt')).toBe('Negative prompt');
  });

  it('has slider ranges inside the hard limits, and hard limits the services accept', () => {
    for (const p of leafPaths(defaults)) {
      const value = valueAt(defaults, p);
      const f = fieldFor(p, value);
      if (f.slider) {
        expect(f.slider.min, p.join('.')).toBeGreaterThanOrEqual(f.min ?? -Infinity);
        expect(f.slider.max, p.join('.')).toBeLessThanOrEqual(f.max ?? Infinity);
      }
      if ((f.kind === 'number' || f.kind === 'integer' || f.kind === 'seed') && f.min !== undefined && f.max !== undefined) {
        for (const shown of [f.min, f.max]) expect(() => applySettingsPatch(defaultSettings(), patchFor(p, fromShown(shown, f))), `${p.join('.')} = ${shown}`).not.toThrow();
      }
    }
  });

  it('shows fractions as percent and checks typed numbers in the units shown', () => {
    const strength = fieldFor(['strength'], 0.75);
    expect([strength.unit, toShown(0.75, strength), formatValue(strength, 0.07)]).toEqual(['%', 75, '7%']);
    expect(parseNumberField('150', strength)).toEqual({ ok: false, error: 'How much it changes must be at most 100%' });
    expect(parseNumberField('40 %', strength)).toEqual({ ok: true, value: 40 });
    expect(fromShown(40, strength)).toBe(0.4);
    const steps = fieldFor(['steps'], 20);
    expect(parseNumberField('25', steps)).toEqual({ ok: true, value: 25 });
    expect(parseNumberField('2.5', steps).ok).toBe(false);
    expect(parseNumberField('0', steps)).toEqual({ ok: false, error: 'Detail steps must be at least 1' });
    expect(parseNumberField('', steps).ok).toBe(false);
    const levels = fieldFor(['propagation', 'pyramidLevels'], null);
    expect(levels).toMatchObject({ kind: 'integer', nullable: true, min: 1, max: 16 });
    expect(parseNumberField('', levels)).toEqual({ ok: true, value: null });
    expect(formatValue(fieldFor(['crossFrame', 'warpPeriod'], [0, 0.1]), [0, 0.1])).toBe('0–10% of the steps');
  });

  it('lists what a patch would change, in the panel’s words', () => {
    const fast = presetById('fast-preview')!;
    const changes = describeChanges(defaults, fast.settings as Record<string, unknown>);
    expect(changes.map((c) => `${c.label}: ${c.from} → ${c.to}`)).toEqual([
      'Detail steps: 20 steps → 12 steps',
      'Refinement passes: 12 passes → 6 passes',
      'Motion tracking: Fine → Fast',
    ]);
    expect(describeChanges(defaults, { prompt: 'a cat', seed: 0 })).toEqual([{ path: ['prompt'], label: 'Prompt', from: '(empty)', to: '“a cat”' }]);
  });

  it('builds a partial update for one leaf', () => {
    expect(patchFor(['crossFrame', 'freeu', 'b1'], 1.1)).toEqual({ crossFrame: { freeu: { b1: 1.1 } } });
    expect(valueAt(defaults, ['crossFrame', 'freeu', 'b1'])).toBe(1.3);
    expect(valueAt(defaults, ['nope', 'x'])).toBeUndefined();
  });
});
