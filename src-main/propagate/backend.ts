// Which device runs patch synthesis: a WebGPU adapter (any GPU Dawn reaches) or the native CPU
// code. 'auto' takes a hardware GPU and falls back to the CPU with a one-line note; a software
// adapter (SwiftShader) is never chosen automatically: it is hundreds of times slower than the CPU.
import { existsSync, readdirSync } from 'node:fs';
import { CodedError } from '../errors.ts';
import { loadPropagateAddon } from './native.ts';
import type { PropagateAddon } from './native.ts';
import type { GpuSynthesizer } from './gpu/synthesizer.ts';

export { BACKENDS } from './choices.ts';
export type { BackendSetting } from './choices.ts';
import type { BackendSetting } from './choices.ts';

export interface BackendInfo {
  kind: 'cpu' | 'webgpu';
  /** The adapter's name, or 'CPU'. */
  device: string;
  /** Why the CPU runs although a GPU was asked for or looked for; absent when nothing to say. */
  note?: string;
}

export interface ChosenBackend {
  addon: PropagateAddon;
  info: BackendInfo;
  /** The WebGPU synthesizer when synthesis runs there (its device also runs the blend). */
  gpu?: GpuSynthesizer;
  close(): void;
}

export class BackendUnavailableError extends CodedError<'GPU_UNAVAILABLE'> {
  constructor(message: string) {
    super('GPU_UNAVAILABLE', message);
  }
}

/**
 * On Linux, Dawn reaches GPUs through Vulkan only: with no Vulkan driver manifest anywhere there
 * is nothing to find, and loading Dawn would only print the loader's complaint.
 */
function noVulkanDriver(): boolean {
  if (process.platform !== 'linux' || process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return false;
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];
  return !dirs.some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json')));
}

/** What 'auto' found the first time, when that was the CPU: the answer does not change within a process. */
let autoFellBack: string | null = null;

/**
 * The addon to synthesise with. `base` supplies flow, guides and the CPU synthesis; with a GPU
 * only `synthesize` is replaced.
 */
export async function chooseBackend(setting: BackendSetting, base: PropagateAddon = loadPropagateAddon(), signal?: AbortSignal): Promise<ChosenBackend> {
  const cpu = (note?: string): ChosenBackend => ({ addon: base, info: { kind: 'cpu', device: 'CPU', ...(note ? { note } : {}) }, close: () => undefined });
  if (setting === 'cpu') return cpu();
  if (setting === 'auto' && autoFellBack !== null) return cpu(autoFellBack);
  const fallBack = (why: string): ChosenBackend => {
    if (setting === 'webgpu') throw new BackendUnavailableError(`propagation on WebGPU was asked for, but ${why}`);
    autoFellBack = `synthesis runs on the CPU: ${why}`;
    return cpu(autoFellBack);
  };
  if (noVulkanDriver()) return fallBack('no GPU driver for WebGPU (Vulkan) is installed');
  // Loaded only when wanted: Dawn is a large optional binary.
  const { createGpuSynthesizer } = await import('./gpu/synthesizer.ts');
  const gpu = await createGpuSynthesizer(signal ? { signal } : {});
  if ('unavailable' in gpu) return fallBack(gpu.unavailable);
  if (setting === 'auto' && gpu.software) {
    gpu.close();
    return fallBack(`the only WebGPU adapter, ${gpu.device}, is a software renderer, slower than the CPU code`);
  }
  return { addon: { ...base, synthesize: gpu.synthesize }, info: { kind: 'webgpu', device: gpu.device }, gpu, close: () => gpu.close() };
}
