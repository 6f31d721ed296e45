// The editor's path to translation: capabilities say what is missing until the project's model
// paths are set, then a 'translate' job runs to 'done' with its device and the key frames show
// 'translated' in the project summary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createApiHost, type ApiHost } from '../../src-main/api/host.ts';
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { waitForJob } from '../helpers/jobs.ts';

const ENGINE = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
let dir = '';
let clip = '';
let host: ApiHost;

before(async () => {
  dir = await makeTempDir('rerender-translate-host-');
  clip = await makeClip(dir, { frames: 8, width: 64, height: 64, fps: { num: 25, den: 1 } });
  host = createApiHost({ dataDir: path.join(dir, 'data'), env: process.env });
});
after(async () => {
  await host.dispose();
  await removeDir(dir);
});

test('a translate job started by the editor reaches done and the key frames show translated', async () => {
  let caps = await host.api.capabilities();
  assert.equal(caps.translate.available, false);
  assert.match(caps.translate.message!, /Open a project/);

  const strip = waitForJob(host, (j) => j.kind === 'thumbnails' && j.status === 'done', 120_000);
  await host.api.createProject({ videoPath: clip, projectPath: path.join(dir, 't.rrproj'), shortSide: 64 });
  await strip;
  await host.api.addKeyframe(0);
  await host.api.addKeyframe(5);
  caps = await host.api.capabilities();
  assert.equal(caps.translate.available, false);
  assert.match(caps.translate.message!, /Stable Diffusion 1\.5 model: not set/);
  await assert.rejects(host.api.startJob({ kind: 'translate' }), (e: Error & { code?: string }) => e.code === 'ENGINE_UNAVAILABLE' && /ControlNet: not set/.test(e.message));

  await host.api.updateSettings({ model: path.join(ENGINE, 'tiny-sd'), controlnetModel: path.join(ENGINE, 'does-not-exist') });
  caps = await host.api.capabilities();
  assert.equal(caps.translate.available, false);
  assert.match(caps.translate.message!, /does-not-exist does not exist/);
  assert.doesNotMatch(caps.translate.message!, /model: not set/);

  // fp16 even where 'auto' would pick fp32 (the CPU): the job hands the project's precision to the pipeline.
  await host.api.updateSettings({ controlnetModel: path.join(ENGINE, 'tiny-controlnet'), prompt: 'a watercolor', steps: 2, precision: 'fp16' });
  caps = await host.api.capabilities();
  assert.deepEqual(caps.translate, { available: true, message: null });

  const summaries: ProjectSummary[] = [];
  const off = host.api.on('project', (s) => summaries.push(s));
  const done = waitForJob(host, (j) => j.kind === 'translate' && (j.status === 'done' || j.status === 'failed'), 120_000);
  const started = await host.api.startJob({ kind: 'translate' });
  assert.equal(started.kind, 'translate');
  const job = await done;
  off();
  assert.equal(job.status, 'done', job.error ?? '');
  // The app asks for 'auto': the device is whichever provider really ran, and a CPU run says why.
  assert.match(job.device ?? '', /^(cpu|cuda|webgpu) \(float16\)$/);
  assert.match(job.note ?? '', /^2 key frame\(s\) translated/);
  // Why the CPU runs is said once per project, by the device line (its details), not in each job.
  if (job.device!.startsWith('cpu')) {
    assert.doesNotMatch(job.note!, /CUDA|WebGPU/);
    const { device } = await host.api.jobOutlook();
    assert.equal(device.label, 'CPU · fp16');
    assert.match(device.note ?? '', /^Running on the CPU/);
    assert.match(device.details ?? '', /CUDA is not used: .+ Running on WebGPU instead\./);
  }
  const s = (await host.api.project())!;
  assert.deepEqual(s.keyframes.map((k) => k.state), ['translated', 'translated']);
  assert.ok(summaries.some((x) => x.keyframes.filter((k) => k.state === 'translated').length === 1), 'each key frame shows as soon as it is stored');

  // Editing the settings makes them stale; a second job with nothing changed has nothing to do.
  const again = waitForJob(host, (j) => j.kind === 'translate' && j.status === 'done' && j.id !== job.id, 120_000);
  await host.api.startJob({ kind: 'translate', frames: [0] });
  assert.match((await again).note ?? '', /0 key frame\(s\) translated, 1 already up to date/);
  // The precision is how the engine computes, not what it makes: the key frames stay up to date.
  const precise = await host.api.updateSettings({ precision: 'fp32' });
  assert.deepEqual(precise.keyframes.map((k) => k.state), ['translated', 'translated']);
  const stale = await host.api.updateSettings({ seed: 3 });
  assert.deepEqual(stale.keyframes.map((k) => k.state), ['stale', 'stale']);
});
