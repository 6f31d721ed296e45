// Two ControlNets at once against diffusers' StableDiffusionControlNetPipeline given a list of
// ControlNets (MultiControlNetModel), made by tools/reference/make_multicontrolnet_fixture.py:
// tiny-controlnet at scale 0.7 on a noise picture, multi-controlnet/controlnet-b at 1.3 on stripes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../../../src-main/engine/pipeline/index.ts';
import type { ControlInput, PipelineOptions } from '../../../src-main/engine/pipeline/index.ts';
import { FIXTURES } from '../io/fixtures.ts';
import { relError } from '../../helpers/numeric.ts';
import { TEST_PROVIDER } from '../../helpers/provider.ts';

/** The bound of the single-ControlNet run in parity.test.ts. */
const TOL = 1e-4;
const DIR = join(FIXTURES, 'multi-controlnet');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Record<string, { file: string }> & {
  run: { prompt: string; negative: string; steps: number; guidance: number; scales: [number, number]; timesteps: number[] };
};
const run = manifest.run;
let cache: string;

function ref(name: string): Float32Array {
  const b = readFileSync(join(DIR, manifest[name]!.file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function image(name: string): ControlInput['image'] {
  return { data: ref(name), dims: [1, 3, 64, 64] };
}

before(() => {
  cache = mkdtempSync(join(tmpdir(), 'multi-controlnet-'));
});
after(() => rmSync(cache, { recursive: true, force: true }));

function load(controlnet: PipelineOptions['controlnet']): Promise<StableDiffusionPipeline> {
  return StableDiffusionPipeline.load({ model: join(FIXTURES, 'tiny-sd'), controlnet, precision: 'fp32', cacheDir: cache, provider: TEST_PROVIDER, intraOpThreads: 1 });
}

test('two ControlNets (scales 0.7 and 1.3, own pictures) match diffusers\' multi-ControlNet pipeline', async () => {
  // The scales come from the specs here (the inputs give none), so the spec default is covered too.
  const sd = await load([
    { path: join(FIXTURES, 'tiny-controlnet'), type: 'raw', scale: run.scales[0] },
    { path: join(DIR, 'controlnet-b'), scale: run.scales[1] },
  ]);
  try {
    assert.equal(sd.controlnetCount, 2);
    assert.equal(sd.hasControlNet, true);
    const seen: Float32Array[] = [];
    const out = await sd.generate({
      prompt: run.prompt, negative: run.negative, width: 64, height: 64, steps: run.steps, guidance: run.guidance, noise: ref('in.noise'),
      control: [{ image: image('in.control_a') }, { image: image('in.control_b') }],
      onStep: (info) => { seen.push(info.update(info.x0)); },
    });
    assert.deepEqual(out.timesteps, run.timesteps);
    const errors = [
      ...seen.map((s, i) => [`after step ${i}`, relError(s, ref(`latents_after_step.${i}`))] as const),
      ['final latents', relError(out.latents, ref('final_latents'))] as const,
      ['decoded image', relError(out.image.data, ref('decoded'))] as const,
    ];
    for (const [what, err] of errors) assert.ok(err <= TOL, `${what}: relative error ${err.toExponential(2)} > ${TOL}`);
    console.log(`multi-ControlNet parity: ${errors.map(([w, e]) => `${w} ${e.toExponential(2)}`).join(', ')}`);

    // One picture for two ControlNets, or too many pictures: a typed error before any step.
    const base = { prompt: 'x', width: 64, height: 64, steps: 1 };
    await assert.rejects(sd.generate({ ...base, control: { image: image('in.control_a') } }), { code: 'INVALID_ARGUMENT', message: /1 control input\(s\) were given for 2 ControlNets/ });
    const three = [0, 1, 2].map(() => ({ image: image('in.control_a') }));
    await assert.rejects(sd.generate({ ...base, control: three }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(sd.generate({ ...base, control: [{ image: image('in.control_a') }, { image: { data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] } }] }), {
      code: 'INVALID_ARGUMENT', message: /control image 2 must be \[1, 3, 64, 64\]/,
    });
    await assert.rejects(sd.generate({ ...base, control: [{ image: image('in.control_a') }, { image: image('in.control_b'), scale: Number.NaN }] }), {
      code: 'INVALID_ARGUMENT', message: /control scale 2/,
    });

    // The input's scale wins over the spec's: scale 0 for the second leaves the first alone, which differs.
    const first = await sd.generate({ ...base, steps: 1, noise: ref('in.noise'), control: [{ image: image('in.control_a') }, { image: image('in.control_b'), scale: 0 }] });
    const both = await sd.generate({ ...base, steps: 1, noise: ref('in.noise'), control: [{ image: image('in.control_a') }, { image: image('in.control_b') }] });
    assert.ok(relError(first.latents, both.latents) > 1e-3, 'the second ControlNet changes the result');
  } finally {
    await sd.close();
  }
});

test('a one-element list is the single ControlNet: a lone ControlInput or a list of one, same result', async () => {
  const sd = await load([join(FIXTURES, 'tiny-controlnet')]);
  try {
    assert.equal(sd.controlnetCount, 1);
    const base = { prompt: 'x', width: 64, height: 64, steps: 1, noise: ref('in.noise') };
    const lone = await sd.generate({ ...base, control: { image: image('in.control_a'), scale: 0.7 } });
    const list = await sd.generate({ ...base, control: [{ image: image('in.control_a'), scale: 0.7 }] });
    assert.deepEqual(list.latents, lone.latents);
  } finally {
    await sd.close();
  }
});

test('bad ControlNet specs are typed errors before anything is read', async () => {
  const cn = join(FIXTURES, 'tiny-controlnet');
  await assert.rejects(load([cn, { path: cn, type: 'pose' as never }]), { code: 'INVALID_ARGUMENT', message: /ControlNet 2 .*type must be one of canny, hed/ });
  await assert.rejects(load({ path: cn, scale: Number.POSITIVE_INFINITY }), { code: 'INVALID_ARGUMENT', message: /scale must be a finite number/ });
  await assert.rejects(load([cn, join(FIXTURES, 'no-such-controlnet')]), { code: 'MODEL_MISSING' });
});
