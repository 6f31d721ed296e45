// The execution provider the engine's parity tests run on: the CPU in `npm run test:unit`, WebGPU
// in the WebGPU lane (scripts/test-webgpu.js sets RERENDER_TEST_PROVIDER and a Vulkan driver). In
// that lane graphs are compiled in the forms the product runs on WebGPU, and the bounds stay the same.
import type ort from 'onnxruntime-node';
import type { Target } from '../../src-main/engine/graph/compile.ts';
import { InferenceHost } from '../../src-main/engine/runtime/inference-host.ts';

export type TestProvider = 'cpu' | 'webgpu';

export const TEST_PROVIDER: TestProvider = process.env['RERENDER_TEST_PROVIDER'] === 'webgpu' ? 'webgpu' : 'cpu';
export const ON_WEBGPU = TEST_PROVIDER === 'webgpu';

/** The compile target a test meant for the CPU uses on the lane's provider. */
export function laneTarget(target: Target): Target {
  return ON_WEBGPU && target === 'cpu' ? 'webgpu' : target;
}

/** Session options on the lane's provider only: a provider that cannot start fails the test, never falls back. */
export function laneSessionOptions(): ort.InferenceSession.SessionOptions {
  return { executionProviders: [TEST_PROVIDER], intraOpNumThreads: 1, logSeverityLevel: 3 };
}

let float16: Promise<boolean> | null = null;

/** Whether the lane's device runs float16 kernels (SwiftShader does not); the CPU always does. */
export function laneRunsFloat16(): Promise<boolean> {
  float16 ??= (async () => {
    if (!ON_WEBGPU) return true;
    const host = new InferenceHost({ provider: 'webgpu' });
    try {
      return (await host.probe()).device.float16;
    } finally {
      await host.close();
    }
  })();
  return float16;
}

/**
 * Options of a test the WebGPU lane leaves to the CPU lane, with the reason it reports: checks of
 * the engine's own logic or of the reference data that no provider changes, kept off the slow
 * software adapter so that the lane fits in CI.
 */
export function cpuLaneOnly(why: string): { skip?: string } {
  return ON_WEBGPU ? { skip: `CPU lane only: ${why}` } : {};
}
