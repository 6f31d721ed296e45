// Before any job runs: the device line (from one probe per services process), the estimates (from
// timings of earlier jobs), and the crop a new project's working size makes. Job totals are fixed
// from the start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createApiHost, type ApiHost } from '../../src-main/api/host.ts';
import type { JobInfo } from '../../src-main/api/contract.ts';
import { CPU_NOTE, deviceStatus, DeviceProbe, nvidiaGpuName, unknownDevice } from '../../src-main/api/device-probe.ts';
import type { ProbeResult } from '../../src-main/engine/runtime/protocol.ts';
import { FIRST_RUN } from '../../src-main/jobs/estimate.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { waitForJob } from '../helpers/jobs.ts';

const cpuFallback: ProbeResult = {
  provider: 'cpu',
  notes: [
    { provider: 'cuda', message: 'CUDA is not used: its GPU add-on is not installed. Running on WebGPU instead.', detail: 'cuda: libonnxruntime_providers_cuda.so missing. With network access run `npm rebuild onnxruntime-node`' },
    { provider: 'webgpu', message: 'WebGPU is not used: no GPU driver with WebGPU support was found. Running on the CPU instead.', detail: 'webgpu: no Vulkan driver' },
  ],
  device: { provider: 'cpu', name: 'cpu', software: false, float16: true, maxBindingBytes: null },
};

let dir = '';
let clip = '';
let host: ApiHost;
let probes = 0;

before(async () => {
  dir = await makeTempDir('rerender-outlook-');
  // 16:9 at a 64 px working size snaps to 128×64 (2:1): 8 of 72 rows are cut away.
  clip = await makeClip(dir, { frames: 12, width: 128, height: 72, fps: { num: 24, den: 1 } });
  host = createApiHost({
    dataDir: path.join(dir, 'data'),
    env: process.env,
    probeDevice: async () => {
      probes++;
      return cpuFallback;
    },
  });
});
after(async () => {
  await host.dispose();
  await removeDir(dir);
});

test('device status: GPU name and precision, the CPU with its note once, an unknown device', () => {
  const cpu = deviceStatus(cpuFallback, 'auto');
  assert.deepEqual([cpu.kind, cpu.label, cpu.precision, cpu.note], ['cpu', 'CPU · fp32', 'fp32', CPU_NOTE]);
  assert.match(cpu.details ?? '', /npm rebuild onnxruntime-node/, 'the remedy is in details, not in the line');
  const chosenCpu = deviceStatus({ ...cpuFallback, notes: [] }, 'auto');
  assert.equal(chosenCpu.note, null, 'the CPU chosen on purpose needs no note');
  const cuda = deviceStatus({ provider: 'cuda', notes: [], device: { provider: 'cuda', name: 'cuda', software: false, float16: true, maxBindingBytes: null } }, 'auto', () => 'NVIDIA H200');
  assert.deepEqual([cuda.kind, cuda.label, cuda.note], ['gpu', 'GPU: NVIDIA H200 · fp16', null]);
  assert.equal(deviceStatus({ provider: 'cuda', notes: [], device: { provider: 'cuda', name: 'cuda', software: false, float16: true, maxBindingBytes: null } }, 'fp32', () => null).label, 'GPU: NVIDIA GPU · fp32');
  const webgpu = deviceStatus({ provider: 'webgpu', notes: [], device: { provider: 'webgpu', name: 'AMD Radeon', software: false, float16: false, maxBindingBytes: 1 } }, 'auto');
  assert.equal(webgpu.label, 'GPU: AMD Radeon · fp32');
  const unknown = unknownDevice(new Error('worker exited'));
  assert.deepEqual([unknown.kind, unknown.label], ['unknown', 'device unknown']);
  assert.match(unknown.details ?? '', /worker exited/);
});

test('the NVIDIA driver\'s GPU name is read from its /proc files', () => {
  const root = path.join(dir, 'proc-gpus');
  mkdirSync(path.join(root, '0000:01:00.0'), { recursive: true });
  writeFileSync(path.join(root, '0000:01:00.0', 'information'), 'Model: \t\t NVIDIA H200\nIRQ:  \t\t 16\n');
  assert.equal(nvidiaGpuName(root), 'NVIDIA H200');
  assert.equal(nvidiaGpuName(path.join(dir, 'no-such')), null);
});

test('the probe runs once, however many ask, and a failed one is an answer', async () => {
  let n = 0;
  const probe = new DeviceProbe(async () => {
    n++;
    throw new Error('no runtime');
  });
  const [a, b] = await Promise.all([probe.status('auto'), probe.status('fp16')]);
  assert.equal(n, 1);
  assert.equal(a.label, 'device unknown');
  assert.equal(b.kind, 'unknown');
});

test('a new project says what its working size crops, before and after it is made', async () => {
  const plan = await host.api.planProject(clip, 64);
  assert.deepEqual(plan.source, { width: 128, height: 72 });
  assert.deepEqual(plan.working, { width: 128, height: 64 });
  assert.deepEqual(plan.crop, { left: 0, right: 0, top: 4, bottom: 4 });
  await assert.rejects(host.api.planProject(path.join(dir, 'missing.mp4')), (e: Error & { code?: string }) => typeof e.code === 'string');
  const p = await host.api.createProject({ videoPath: clip, projectPath: path.join(dir, 'o.rrproj'), shortSide: 64 });
  assert.deepEqual(p.workingCrop, plan.crop);
});

test('the device and estimates are known before any job; propagation keeps one total and leaves a timing', async (t) => {
  const first = await host.api.jobOutlook();
  assert.equal(first.device.label, 'CPU · fp32');
  assert.equal(first.device.note, CPU_NOTE);
  assert.equal(first.translate.text, 'nothing to do', 'no key frames yet');
  assert.equal(first.propagate.text, FIRST_RUN);
  await host.api.jobOutlook();
  assert.equal(probes, 1, 'one probe per services process');

  const caps = await host.api.capabilities();
  if (!caps.propagate.available) {
    t.skip(`propagation unavailable: ${caps.propagate.message ?? ''}`);
    return;
  }
  const png = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=red:size=128x64', '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', 'pipe:1']);
  await host.api.addKeyframe(0);
  await host.api.importKeyframeImage(0, new Uint8Array(png));
  const seen: JobInfo[] = [];
  const off = host.api.on('job', (j) => { if (j.kind === 'propagate') seen.push(j); });
  const finished = waitForJob(host, (j) => j.kind === 'propagate' && j.status !== 'running', 120_000);
  const started = await host.api.startJob({ kind: 'propagate' });
  const done = await finished;
  off();
  assert.equal(done.status, 'done', done.error ?? '');
  assert.deepEqual([...new Set([started, ...seen].map((j) => j.total))], [12], 'the total is the frame count from the first event to the last');
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.done >= seen[i - 1]!.done, 'done never goes back');
  assert.equal(done.done, 12);

  // A setting change makes every frame stale: the estimate now comes from the timing just made.
  await host.api.updateSettings({ propagation: { patchSize: 7 } });
  const after = await host.api.jobOutlook();
  assert.notEqual(after.propagate.text, FIRST_RUN);
  assert.ok(after.propagate.seconds !== null && after.propagate.seconds > 0);
});
