// ORT session options per provider. Outputs named in deviceOutputs stay in GPU memory on
// WebGPU (the Node binding binds them to WebGPU buffers); the Node binding has no such
// binding for CUDA, so there they come back to host memory like every other output.
import type { InferenceSession } from 'onnxruntime-node';
import type { ExecutionProvider } from './providers.ts';
import type { SessionSettings } from './protocol.ts';

export function sessionOptions(provider: ExecutionProvider, settings: Pick<SessionSettings, 'intraOpThreads' | 'deviceOutputs'>): InferenceSession.SessionOptions {
  const opts: InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  if (settings.intraOpThreads > 0) opts.intraOpNumThreads = settings.intraOpThreads;
  const device = settings.deviceOutputs ?? [];
  if (provider === 'webgpu' && device.length > 0) {
    opts.preferredOutputLocation = Object.fromEntries(device.map((name) => [name, 'gpu-buffer' as const]));
  }
  return opts;
}
