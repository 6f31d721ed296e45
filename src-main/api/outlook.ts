// What the editor says before any job runs: the device translation would use (probed once per
// services process), how long translate and propagate would take on this machine, and what a new
// project from a video would keep of it (its working size and crop).
import type { DeviceStatus, JobEstimate, JobOutlook, ProjectPlan, ProjectSummary } from './contract.ts';
import type { Project } from '../project/index.ts';
import { probeVideo, workingGeometry, type MediaTools } from '../media/index.ts';
import { isPrecision } from '../engine/runtime/precision.ts';
import { DeviceProbe, type Prober } from './device-probe.ts';
import { TimingStore, describeEstimate, estimateSeconds, megapixels, type TimingRecord } from '../jobs/estimate.ts';
import { translationWork } from '../studio/translate.ts';

export interface Outlook {
  readonly timings: TimingStore;
  /** Starts the device probe in the background (once per process). */
  startProbe(): void;
  outlook(project: Project, summary: ProjectSummary): Promise<JobOutlook>;
  plan(videoPath: string, shortSide: number | undefined, tools: MediaTools): Promise<ProjectPlan>;
  /** Lets a probe in flight end (its worker thread) before the host is disposed. */
  settle(): Promise<void>;
}

/** "the CPU" / "the GPU": where an estimate's timings come from, in the artist's words. */
function where(device: string): string {
  return device.startsWith('cpu') ? 'the CPU' : 'the GPU';
}

function estimate(rec: TimingRecord | null, units: number, device: string): JobEstimate {
  const seconds = estimateSeconds(rec, units);
  return { seconds, text: describeEstimate(seconds, where(rec?.device ?? device)) };
}

/** The timing key of a probed device (as the job runner records it: provider and float type). */
function translateKey(device: DeviceStatus, provider: string): string {
  return `${provider} ${device.precision === 'fp16' ? 'float16' : 'float32'}`;
}

export function createOutlook(opts: { dataDir: string; prober?: Prober }): Outlook {
  const probe = new DeviceProbe(opts.prober);
  const timings = new TimingStore(opts.dataDir);
  return {
    timings,
    startProbe: () => probe.start(),
    async outlook(project, summary) {
      const precision = project.settings().precision;
      const device = await probe.status(isPrecision(precision) ? precision : 'auto');
      const provider = (await probe.provider()) ?? 'cpu';
      const mp = megapixels(summary.working);
      let keyframes = 0;
      try {
        keyframes = translationWork(project).todo;
      } catch {
        // no key frames: nothing to translate
      }
      const t = estimate(timings.get('translate', translateKey(device, provider)), keyframes * project.settings().steps * mp, provider);
      const c = summary.renderStatus?.counts;
      // Frames a propagation would (re)write: stale and missing ones (an upper bound: a shot
      // without key frames stays missing).
      const frames = c ? c.stale + c.missing + c.rendering : summary.source.frameCount - summary.renderedFrames;
      const last = timings.latest('propagate');
      const p = estimate(last, frames * mp, 'cpu');
      return { device, translate: t, propagate: p };
    },
    async plan(videoPath, shortSide, tools) {
      const probed = await probeVideo(videoPath, { tools });
      const g = workingGeometry(probed, { shortSide: shortSide ?? 512 });
      return { source: { width: probed.width, height: probed.height }, working: { width: g.width, height: g.height }, crop: { ...g.crop } };
    },
    settle: () => probe.settle(),
  };
}
