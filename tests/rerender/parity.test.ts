// translateKeyframes on the tiny models against the Python reference of Rerender's key-frame
// translation: pass A, pixel-aware fusion and pass B of a three-key-frame run, each constraint
// alone, and a variant (loose cross-frame attention, x0_strength, style updates, other periods).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../../src-main/engine/pipeline/index.ts';
import { resolveRerenderConfig } from '../../src-main/rerender/config.ts';
import { translateKeyframes } from '../../src-main/rerender/translate.ts';
import type { InspectEvent, TranslateDeps, TranslateResult } from '../../src-main/rerender/translate.ts';
import { ENGINE, SIZE, assertClose, configOf, frameRgb, has, motion, noise, ref, scenarios } from './ref.ts';
import { cpuLaneOnly, laneRunsFloat16, ON_WEBGPU, TEST_PROVIDER } from '../helpers/provider.ts';

// Latents in float32 ONNX vs torch: ~1e-6 per UNet call, grown through 10 guided steps (×7.5)
// and two chained VAE round trips; 1e-4 of the latents' range holds with margin.
const LATENT_TOL = 1e-4;
let cache: string;
const pipelines = new Map<string, StableDiffusionPipeline>();

/** The reference keeps contexts in float32, so the parity pipelines do too. */
async function pipeline(loose: boolean, contextType: 'float32' | 'float16' = 'float32'): Promise<StableDiffusionPipeline> {
  const key = `${loose ? 'loose' : 'decoder'}:${contextType}`;
  let p = pipelines.get(key);
  if (!p) {
    p = await StableDiffusionPipeline.load({
      model: join(ENGINE, 'tiny-sd'), controlnet: join(ENGINE, 'tiny-controlnet'), cacheDir: cache,
      provider: TEST_PROVIDER, precision: 'fp32', intraOpThreads: 1, crossFrame: loose ? 'decoder-loose' : 'decoder', contextType,
    });
    pipelines.set(key, p);
  }
  return p;
}

before(() => {
  cache = mkdtempSync(join(tmpdir(), 'rerender-parity-'));
});
after(async () => {
  for (const p of pipelines.values()) await p.close();
  rmSync(cache, { recursive: true, force: true });
});

async function deps(name: string, extra: Partial<TranslateDeps> = {}): Promise<TranslateDeps> {
  const s = scenarios[name]!;
  return {
    pipeline: await pipeline(s.loose_cfattn),
    width: SIZE, height: SIZE, keyframes: Array.from({ length: s.frames }, (_, k) => k),
    frame: async (k) => frameRgb(k),
    control: async (k) => ({ data: ref(`in.control.${k}`), dims: [1, 3, SIZE, SIZE] }),
    motion: async (from, to) => motion(from, to),
    noise: noise(),
    ...extra,
  };
}

async function run(name: string): Promise<InspectEvent[]> {
  const events: InspectEvent[] = [];
  await translateKeyframes(await deps(name, { inspect: (e) => events.push(e) }), resolveRerenderConfig(configOf(scenarios[name]!)));
  return events;
}

function check(name: string, events: InspectEvent[]): void {
  const s = scenarios[name]!;
  for (let k = 0; k < s.frames; k++) {
    const at = (stage: InspectEvent['stage']) => events.find((e) => e.frame === k && e.stage === stage);
    if (k === 0) {
      const a = at('anchor');
      assert.ok(a && 'latents' in a);
      assertClose(a.latents, ref(`${name}.0.out.latent`), LATENT_TOL, `${name} anchor latent`);
      assertClose(a.image.data, ref(`${name}.0.out.image`), LATENT_TOL, `${name} anchor image`);
      continue;
    }
    const a = at('passA');
    assert.ok(a && 'latents' in a, `${name} ${k}: pass A ran`);
    assertClose(a.latents, ref(`${name}.${k}.passA.latent`), LATENT_TOL, `${name} ${k} pass A`);
    if (!has(`${name}.${k}.passB.latent`)) {
      assert.equal(at('passB'), undefined, `${name} ${k}: no pass B without pixel-aware fusion`);
      assertClose(a.image.data, ref(`${name}.${k}.out.image`), LATENT_TOL, `${name} ${k} image`);
      continue;
    }
    const f = at('fusion');
    assert.ok(f && 'target' in f, `${name} ${k}: fusion ran`);
    assertClose(f.target.fused.data, ref(`${name}.${k}.fusion.image`), LATENT_TOL, `${name} ${k} fused image`);
    assert.deepEqual([...f.target.maskX.data], [...ref(`${name}.${k}.fusion.mask_x`)], `${name} ${k} mask_x`);
    assert.deepEqual([...f.target.noiseRescale.data], [...ref(`${name}.${k}.fusion.noise_rescale`)], `${name} ${k} noise_rescale`);
    assertClose(f.target.mask.data, ref(`${name}.${k}.fusion.mask`), 1e-5, `${name} ${k} mask`);
    assertClose(f.target.xtrg, ref(`${name}.${k}.fusion.xtrg`), LATENT_TOL, `${name} ${k} xtrg`);
    const b = at('passB');
    assert.ok(b && 'latents' in b);
    assertClose(b.latents, ref(`${name}.${k}.passB.latent`), LATENT_TOL, `${name} ${k} pass B`);
    assertClose(b.image.data, ref(`${name}.${k}.out.image`), LATENT_TOL, `${name} ${k} image`);
  }
}

describe('key-frame translation matches the reference', () => {
  const what: Record<string, string> = {
    full: 'all constraints, three key frames',
    lane: 'all constraints, three key frames, 5 steps',
    variant: 'loose attention, x0_strength, style updates every 2, other periods, four key frames',
  };
  for (const name of ['full', 'lane', 'cross', 'shape', 'pixel', 'ada', 'variant']) {
    // The WebGPU lane runs every constraint together at 5 steps; the rest is the CPU lane's.
    const lane = name === 'lane' ? {} : cpuLaneOnly('the WebGPU lane runs all constraints together in "lane" (5 steps)');
    test(`${name}: ${what[name] ?? `${name} constraint alone`}`, lane, async () => {
      const p = await pipeline(scenarios[name]!.loose_cfattn);
      assert.equal(p.provider, TEST_PROVIDER);
      await p.contextMemory({ resetPeak: true });
      check(name, await run(name));
      // On WebGPU the stored attention contexts stay in GPU buffers from output to input.
      const held = await p.contextMemory();
      if (ON_WEBGPU && scenarios[name]!.cross_frame) assert.ok(held.peakDeviceBytes > 0 && held.peakDeviceBytes === held.peakBytes, JSON.stringify(held));
    });
  }
});

describe('storage, resumption and painted masks', () => {
  test('float16 contexts take half the memory and stay close to the float32 reference', async (t) => {
    if (!(await laneRunsFloat16())) return t.skip('this WebGPU adapter has no 16-bit float shaders (hooks.test.ts checks the float32 fallback)');
    const cfg = configOf(scenarios['full']!);
    const events: InspectEvent[] = [];
    const half = await translateKeyframes(await deps('full', { pipeline: await pipeline(false, 'float16'), inspect: (e) => events.push(e) }), resolveRerenderConfig({ ...cfg, contextPrecision: 'float16' }));
    const full = await translateKeyframes(await deps('full'), resolveRerenderConfig(cfg));
    assert.equal(half.contextBytes * 2, full.contextBytes);
    assert.ok(full.contextBytes > 0);
    const b = events.find((e) => e.frame === 2 && e.stage === 'passB');
    assert.ok(b && 'latents' in b);
    // fp16 rounds each stored context by up to 2^-11 relative; after 10 guided steps and two
    // passes the latents move by 2.4e-5 of their range here, so 10× the fp32 bound holds it.
    assertClose(b.latents, ref('full.2.passB.latent'), 1e-3, 'fp16 pass B');
  });

  test('a resumed run skips stored key frames and finishes the rest like an uninterrupted one', cpuLaneOnly('resumption happens in the translation loop, in JavaScript'), async () => {
    const cfg = resolveRerenderConfig(configOf(scenarios['full']!));
    const first: TranslateResult = await translateKeyframes(await deps('full'), cfg);
    assert.deepEqual(first.keyframes.map((k) => k.resumed), [false, false, false]);
    const made: number[] = [];
    const resumed = await translateKeyframes(await deps('full', {
      done: async (f) => (f < 2 ? first.keyframes[f]!.rgb : null),
      onKeyframe: (r) => {
        made.push(r.frame);
      },
    }), cfg);
    assert.deepEqual(made, [2]);
    assert.deepEqual(resumed.keyframes.map((k) => k.resumed), [true, true, false]);
    // Equal up to the 8-bit rounding of the stored frame 1 the fusion restarts from.
    const a = first.keyframes[2]!.rgb;
    const b = resumed.keyframes[2]!.rgb;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    assert.ok(worst <= 2, `resumed frame differs by up to ${worst} levels`);
    const all = await translateKeyframes(await deps('full', {
      done: async (f) => first.keyframes[f]!.rgb,
      pipeline: { ...(await pipeline(false)), denoise: () => Promise.reject(new Error('nothing should run')) } as unknown as TranslateDeps['pipeline'],
    }), cfg);
    assert.ok(all.keyframes.every((k) => k.resumed));
  });

  test('a painted mask keeps the source outside it', cpuLaneOnly('masks are applied in JavaScript'), async () => {
    const mask = new Float32Array(SIZE * SIZE);
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE / 2; x++) mask[y * SIZE + x] = 1;
    const cfg = resolveRerenderConfig({ ...configOf(scenarios['full']!), maskFeather: 0 });
    const out = await translateKeyframes(await deps('full', { mask: async () => mask }), cfg);
    const plain = await translateKeyframes(await deps('full'), cfg);
    for (const k of [0, 1, 2]) {
      const src = frameRgb(k);
      const got = out.keyframes[k]!.rgb;
      let outside = 0;
      let inside = 0;
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          for (let c = 0; c < 3; c++) {
            const i = (y * SIZE + x) * 3 + c;
            if (x >= SIZE / 2) outside = Math.max(outside, Math.abs(got[i]! - src[i]!));
            else inside = Math.max(inside, Math.abs(got[i]! - src[i]!));
          }
        }
      }
      assert.equal(outside, 0, `frame ${k}: source kept outside the mask`);
      assert.ok(inside > 10, `frame ${k}: translated inside the mask`);
    }
    assert.notDeepEqual(out.keyframes[1]!.rgb, plain.keyframes[1]!.rgb);
  });
});
