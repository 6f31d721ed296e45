// Worker thread for queryWebGpuAdapter: asks Dawn for the adapter onnxruntime would get and posts
// its name, features and limits (or why there is none).
import { parentPort } from 'node:worker_threads';
import type { AdapterQuery } from './webgpu-adapter.ts';

interface DawnAdapter {
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  features: { has(name: string): boolean };
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

interface DawnModule {
  create(flags: string[]): { requestAdapter(opts?: { powerPreference?: string }): Promise<DawnAdapter | null> };
}

async function query(): Promise<AdapterQuery> {
  let dawn: DawnModule;
  try {
    // A specifier in a variable keeps TypeScript from resolving the optional package's types.
    const name = 'webgpu';
    dawn = (await import(name)) as DawnModule;
  } catch {
    return { adapter: null, reason: 'the optional `webgpu` package (Dawn for Node) is not installed' };
  }
  const adapter = await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { adapter: null, reason: 'no WebGPU adapter' };
  const i = adapter.info;
  return {
    adapter: {
      name: [i.vendor, i.device || i.architecture, i.description].filter((s) => s && s.trim().length > 0).join(' · ') || 'unnamed adapter',
      software: i.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe/i.test(`${i.architecture} ${i.device} ${i.description}`),
      shaderF16: adapter.features.has('shader-f16'),
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  };
}

query().then(
  (q) => parentPort?.postMessage(q),
  (err: unknown) => parentPort?.postMessage({ adapter: null, reason: err instanceof Error ? err.message : String(err) } satisfies AdapterQuery),
);
