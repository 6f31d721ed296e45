// The whole img2img + ControlNet DDIM run against the diffusers reference
// (tests/fixtures/engine/ref run.*, noise taken from the fixture), and the
// single-file checkpoint against the diffusers folder.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../../../src-main/engine/pipeline/index.ts';
import type { GenerateRequest, PipelineOptions } from '../../../src-main/engine/pipeline/index.ts';
import { FIXTURES, refF32, refI64 } from '../io/fixtures.ts';
import { relError } from '../graph/ref.ts';
import { cpuLaneOnly, TEST_PROVIDER } from '../../helpers/provider.ts';

const TOL = 1e-4;
const PROMPT = 'a watercolor painting of a fox in the snow';
const NEGATIVE = 'blurry, low quality, ugly';
let cache: string;

before(() => {
  cache = mkdtempSync(join(tmpdir(), 'pipeline-parity-'));
});
after(() => rmSync(cache, { recursive: true, force: true }));

function close(got: Float32Array, want: Float32Array, what: string): void {
  const err = relError(got, want);
  assert.ok(err <= TOL, `${what}: relative error ${err.toExponential(2)} > ${TOL}`);
}

/** The reference run: 4 DDIM steps, strength 0.75, guidance 7.5, ControlNet scale 1, VAE mean. */
function referenceRequest(onStep?: GenerateRequest['onStep']): GenerateRequest {
  return {
    prompt: PROMPT, negative: NEGATIVE, width: 64, height: 64, steps: 4, guidance: 7.5,
    noise: refF32('run.in.noise'),
    init: { image: { data: refF32('run.in.init_image'), dims: [1, 3, 64, 64] }, strength: 0.75, encode: 'mean' },
    control: { image: { data: refF32('run.in.control'), dims: [1, 3, 64, 64] }, scale: 1 },
    ...(onStep ? { onStep } : {}),
  };
}

async function withPipeline<T>(options: Omit<PipelineOptions, 'cacheDir' | 'provider'>, use: (sd: StableDiffusionPipeline) => Promise<T>): Promise<T> {
  const sd = await StableDiffusionPipeline.load({ precision: 'fp32', ...options, cacheDir: cache, provider: TEST_PROVIDER, intraOpThreads: 1 });
  try {
    return await use(sd);
  } finally {
    await sd.close();
  }
}

test('img2img + ControlNet DDIM run matches diffusers step by step', async () => {
  await withPipeline({ model: join(FIXTURES, 'tiny-sd'), controlnet: join(FIXTURES, 'tiny-controlnet') }, async (sd) => {
    assert.equal(sd.provider, TEST_PROVIDER);
    assert.deepEqual(sd.timesteps(4, 0.75), refI64('run.timesteps'));
    const init = await sd.encodeImage({ data: refF32('run.in.init_image'), dims: [1, 3, 64, 64] }, { mode: 'mean' });
    close(init, refF32('run.init_latents'), 'init latents');
    close(sd.scheduler(4).addNoise(refF32('run.init_latents'), refF32('run.in.noise'), 501), refF32('run.noised_latents'), 'noised latents');

    const seen: Float32Array[] = [];
    const progress: number[] = [];
    const out = await sd.generate({ ...referenceRequest((info) => { seen.push(info.latents); }), onProgress: (p) => progress.push(p.done) });
    assert.deepEqual(out.timesteps, [501, 251, 1]);
    assert.deepEqual(progress, [1, 2, 3]);
    close(seen[0]!, refF32('run.noised_latents'), 'x_501');
    close(seen[1]!, refF32('run.latents_after_step.0'), 'after step 0');
    close(seen[2]!, refF32('run.latents_after_step.1'), 'after step 1');
    close(out.latents, refF32('run.final_latents'), 'final latents');
    assert.deepEqual(out.image.dims, [1, 3, 64, 64]);
    close(out.image.data, refF32('run.decoded'), 'decoded image');
  });
});

test('single-file checkpoint + LDM ControlNet give the same result as the diffusers folders', cpuLaneOnly('how weights are read, whatever runs them'), async () => {
  const folder = await withPipeline({ model: join(FIXTURES, 'tiny-sd'), controlnet: join(FIXTURES, 'tiny-controlnet') }, (sd) => sd.generate(referenceRequest()));
  const single = await withPipeline({
    model: join(FIXTURES, 'tiny-sd.safetensors'), configFrom: join(FIXTURES, 'tiny-sd'),
    controlnet: { path: join(FIXTURES, 'tiny-controlnet.safetensors'), configFrom: join(FIXTURES, 'tiny-controlnet') },
  }, (sd) => sd.generate(referenceRequest()));
  assert.ok(relError(single.latents, folder.latents) < 1e-6, 'latents');
  assert.ok(relError(single.image.data, folder.image.data) < 1e-6, 'image');
  close(single.latents, refF32('run.final_latents'), 'single-file final latents');
});
