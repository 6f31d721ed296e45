// Named sets of project settings an artist can start from: the official Rerender_A_Video example
// configs re-expressed as our settings, and two of our own that trade speed for quality. Plain
// data with type-only imports, so the editor and the CLI can both use it. Each preset is applied
// as one settings patch (one undo step); the fields it leaves out keep the artist's values.
import type { SettingsPatch } from './settings.ts';

export interface Preset {
  id: string;
  name: string;
  /** One line: what it is for and what it changes. */
  description: string;
  /** Where its values come from, for the official ones. */
  source?: string;
  settings: SettingsPatch;
  /** What the original holds that a preset cannot set (key-frame interval, crop, model file…). */
  notes?: string[];
}

/**
 * The official configs' negative prompts (copied values: parameter data, not code).
 * Source: github.com/williamyang1991/Rerender_A_Video, config/*.json.
 */
const SCULPTURE_NEGATIVE =
  '(deformed iris, deformed pupils, semi-realistic, cgi, 3d, render, sketch, cartoon, drawing, anime, mutated hands and fingers:1.4), (deformed, distorted, disfigured:1.3), poorly drawn, bad anatomy, wrong anatomy, extra limb, missing limb, floating limbs, disconnected limbs, mutation, mutated, ugly, disgusting, amputation';
const PORTRAIT_NEGATIVE = 'longbody, lowres, bad anatomy, bad hands, missing fingers, extra digit, fewer digits, cropped, worst quality, low quality';

/**
 * What every official config governs, at the official code's defaults (src/config.py) in our
 * terms, so applying one official preset after another leaves nothing of the first behind.
 * style_update_freq 10 with its key frame every 10 frames refreshes the style at every key frame.
 */
function official(over: {
  prompt: string;
  negativePrompt: string;
  strength: number;
  adaPeriod: [number, number];
  looseCrossFrame?: boolean;
  freeu?: { b1: number; b2: number; s1: number; s2: number };
}): SettingsPatch {
  return {
    prompt: over.prompt,
    negativePrompt: over.negativePrompt,
    seed: 0,
    steps: 20,
    guidance: 7.5,
    strength: over.strength,
    controlnet: { kind: 'canny', lowThreshold: 50, highThreshold: 100, scale: 0.7 },
    crossFrame: {
      crossPeriod: [0, 1],
      looseCrossFrame: over.looseCrossFrame ?? false,
      styleUpdateFreq: 1,
      warpPeriod: [0, 0.1],
      maskPeriod: [0.5, 0.8],
      maskStrength: 0.5,
      innerStrength: 0.9,
      adaPeriod: over.adaPeriod,
      colorPreserve: true,
      freeu: over.freeu ? { enabled: true, ...over.freeu, variant: 'official' } : { enabled: false },
    },
  };
}

const OFFICIAL_NOTES = ['Key frames every 10 frames in the original: place them on the timeline.'];
const SCULPTURE_PROMPT =
  'white ancient Greek sculpture, Venus de Milo, light pink and blue background, RAW photo, subject, (high detailed skin:1.2), 8k uhd, dslr, soft lighting, high quality, film grain, Fujifilm XT3';
const REPO = 'Rerender_A_Video';

export const PRESETS: readonly Preset[] = [
  {
    id: 'fast-preview',
    name: 'Fast preview',
    description: 'Quick look at the style: fewer diffusion steps (12), half the propagation passes and faster motion tracking.',
    settings: { steps: 12, propagation: { searchVoteIters: 6, patchMatchIters: 1, flowMethod: 'dis-fast', extraPass3x3: false } },
  },
  {
    id: 'final-quality',
    name: 'Final quality',
    description: 'For the final render: more diffusion steps (30), twice the propagation passes, the finest motion tracking and a last fine pass.',
    settings: { steps: 30, propagation: { searchVoteIters: 24, patchMatchIters: 2, flowMethod: 'dis-fine', extraPass3x3: true } },
  },
  {
    id: 'real2sculpture',
    name: 'Greek sculpture',
    description: 'The official example: a person turned into a white marble statue (photo-real model).',
    source: `${REPO} config/real2sculpture.json`,
    settings: official({ prompt: SCULPTURE_PROMPT, negativePrompt: SCULPTURE_NEGATIVE, strength: 0.95, adaPeriod: [0.8, 1] }),
    notes: [...OFFICIAL_NOTES, 'The original uses the realisticVisionV20 checkpoint and crops 180 px off the right.'],
  },
  {
    id: 'real2sculpture-freeu',
    name: 'Greek sculpture, FreeU',
    description: 'The sculpture example with FreeU, which sharpens texture and detail.',
    source: `${REPO} config/real2sculpture_freeu.json`,
    settings: official({ prompt: SCULPTURE_PROMPT, negativePrompt: SCULPTURE_NEGATIVE, strength: 0.95, adaPeriod: [0.8, 1], freeu: { b1: 1.1, b2: 1.2, s1: 1, s2: 0.2 } }),
    notes: [...OFFICIAL_NOTES, 'The original uses the realisticVisionV20 checkpoint and crops 180 px off the right.'],
  },
  {
    id: 'real2sculpture-loose',
    name: 'Greek sculpture, loose style lock',
    description: 'The sculpture example with a looser lock to the first key frame: more freedom for big changes of shape.',
    source: `${REPO} config/real2sculpture_loose_cfattn.json`,
    settings: official({ prompt: SCULPTURE_PROMPT, negativePrompt: SCULPTURE_NEGATIVE, strength: 0.95, adaPeriod: [0.8, 1], looseCrossFrame: true }),
    notes: [...OFFICIAL_NOTES, 'The original uses the realisticVisionV20 checkpoint and crops 180 px off the right.'],
  },
  {
    id: 'van-gogh-man',
    name: 'Van Gogh portrait',
    description: 'The official example: a man painted in the style of Van Gogh, made anew from the edges.',
    source: `${REPO} config/van_gogh_man.json`,
    settings: official({ prompt: 'a handsome man in van gogh painting, best quality, extremely detailed', negativePrompt: PORTRAIT_NEGATIVE, strength: 1, adaPeriod: [0.8, 1] }),
    notes: [...OFFICIAL_NOTES, 'The original starts from pure noise (x0_strength 1.05); 100% is the nearest here.', 'It crops 280 px off the bottom.'],
  },
  {
    id: 'woman-cg',
    name: 'CG-style woman',
    description: 'The official example: a woman in a CG look (revAnimated model), keeping more of the source.',
    source: `${REPO} config/woman.json (video pexels-koolshooters-7322716)`,
    settings: official({ prompt: 'a beautiful woman in CG style, best quality, extremely detailed', negativePrompt: PORTRAIT_NEGATIVE, strength: 0.75, adaPeriod: [1, 1] }),
    notes: [...OFFICIAL_NOTES, 'The original uses the revAnimated_v11 checkpoint.'],
  },
];

export function presetById(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

/** Whether every value the preset sets is what `settings` holds (fields it leaves out do not count). */
export function matchesPreset(settings: Record<string, unknown>, preset: Pick<Preset, 'settings'>): boolean {
  return covers(settings, preset.settings);
}

function covers(have: unknown, want: unknown): boolean {
  if (typeof want === 'object' && want !== null && !Array.isArray(want)) {
    if (typeof have !== 'object' || have === null || Array.isArray(have)) return false;
    return Object.entries(want).every(([k, v]) => v === undefined || covers((have as Record<string, unknown>)[k], v));
  }
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((v, i) => covers(have[i], v));
  return Object.is(have, want);
}
