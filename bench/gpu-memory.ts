// Peak GPU memory in use while a benchmark runs, sampled with nvidia-smi: onnxruntime-node
// exposes no allocator statistics, and nvidia-smi sees CUDA and Vulkan (WebGPU) allocations alike.
import { spawn } from 'node:child_process';

export interface GpuMemorySample {
  /** MiB in use at the first sample (before the measured work). */
  baselineMiB: number;
  peakMiB: number;
}

export interface GpuMemorySampler {
  /** Stops sampling; null when nvidia-smi is missing or printed nothing. */
  stop(): Promise<GpuMemorySample | null>;
}

export function sampleGpuMemory(intervalMs = 100): GpuMemorySampler {
  const child = spawn('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', `-lms=${intervalMs}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let baseline: number | null = null;
  let peak = 0;
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      // One line per GPU; the first GPU is the one the benchmark uses.
      const mib = Number(line.split(',')[0]);
      if (!Number.isFinite(mib)) continue;
      baseline ??= mib;
      peak = Math.max(peak, mib);
    }
  });
  const exited = new Promise<void>((resolve) => {
    child.on('error', () => resolve());
    child.on('exit', () => resolve());
  });
  return {
    async stop() {
      child.kill();
      await exited;
      return baseline === null ? null : { baselineMiB: baseline, peakMiB: peak };
    },
  };
}
