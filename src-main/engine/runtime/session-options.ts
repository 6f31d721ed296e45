// ORT session options per provider. Outputs named in deviceOutputs stay in GPU memory on
// WebGPU (the Node binding binds them to WebGPU buffers); the Node binding has no such
// binding for CUDA, so there they come back to host memory like every other output.
import type { InferenceSession } from 'onnxruntime-node';
import type { ExecutionProvider } from './providers.ts';
import type { SessionSettings } from './protocol.ts';

/**
 * CPU EP settings, measured with bench/cpu-vs-torch (2-core box shared with other jobs):
 * - graphOptimizationLevel 'all' (above) stays: its NCHWc conv layout beats 'extended' and
 *   'basic' on the VAE, and per-op kernels then match torch's (oneDNN/MKL) within a few %.
 * - Intra-op threads do not spin while they wait for work. Spinning bought nothing measurable
 *   on our runs (SD graphs are a few big kernels), but a spinning thread holds a core that the
 *   UI, ffmpeg, propagation or another process needs, most of all on few-core machines.
 * - The memory arena stays on: without it the VAE decoder's peak at 512×512 drops 2.25 → 1.25 GB
 *   but every run faults its GBs of activations in again, and the speed cost could not be ruled out.
 */
const CPU_TUNING: Pick<InferenceSession.SessionOptions, 'extra'> = {
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

/** Whether sessions on `provider` leave `deviceOutputs` in GPU memory (only WebGPU's binding can). */
export function keepsOutputsOnDevice(provider: ExecutionProvider, settings: Pick<SessionSettings, 'deviceOutputs'>): boolean {
  return provider === 'webgpu' && (settings.deviceOutputs?.length ?? 0) > 0;
}

export function sessionOptions(provider: ExecutionProvider, settings: Pick<SessionSettings, 'intraOpThreads' | 'deviceOutputs'>): InferenceSession.SessionOptions {
  const opts: InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // Fatal only: failures reach the user as typed errors and provider notes, not as ORT's log lines.
    logSeverityLevel: 4,
  };
  if (settings.intraOpThreads > 0) opts.intraOpNumThreads = settings.intraOpThreads;
  if (provider === 'cpu') Object.assign(opts, CPU_TUNING);
  if (keepsOutputsOnDevice(provider, settings)) {
    opts.preferredOutputLocation = Object.fromEntries(settings.deviceOutputs!.map((name) => [name, 'gpu-buffer' as const]));
  }
  return opts;
}
