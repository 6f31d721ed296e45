// What the system's WebGPU adapter offers (name, 16-bit float shaders, buffer limits), read through
// Dawn for Node (the optional `webgpu` package) in a short-lived worker thread, so that neither a
// missing package nor a driver that hangs can stall the caller. onnxruntime's WebGPU EP runs on the
// same drivers, so these are the limits its buffers must fit.
import { Worker } from 'node:worker_threads';
import { existsSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WebGpuAdapterInfo {
  /** For people: vendor and device or driver, e.g. "google · swiftshader-device-subzero- · SwiftShader driver 5.0.0". */
  name: string;
  /** A CPU implementation (SwiftShader): correct, but slower than onnxruntime's CPU provider. */
  software: boolean;
  shaderF16: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export type AdapterQuery = { adapter: WebGpuAdapterInfo } | { adapter: null; reason: string };

const workerUrl = new URL(`./webgpu-adapter-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Whether a Vulkan driver is installed (Linux): without one, Dawn only prints loader warnings
 * to the terminal before failing, so the engine does not ask it. Other systems: assumed.
 */
export function vulkanDriverInstalled(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (platform !== 'linux') return true;
  const chosen = env['VK_DRIVER_FILES'] || env['VK_ICD_FILENAMES'];
  if (chosen) return chosen.split(':').some((f) => f !== '' && existsSync(f));
  const data = (env['XDG_DATA_DIRS'] || '/usr/local/share:/usr/share').split(':');
  const dirs = ['/etc/vulkan/icd.d', ...data.map((d) => join(d, 'vulkan/icd.d')), ...(env['XDG_DATA_HOME'] ? [join(env['XDG_DATA_HOME'], 'vulkan/icd.d')] : [])];
  return dirs.some((d) => {
    try {
      return readdirSync(d).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

export function queryWebGpuAdapter(timeoutMs = 15_000): Promise<AdapterQuery> {
  return new Promise((resolve) => {
    let settled = false;
    const worker = new Worker(workerUrl);
    const finish = (q: AdapterQuery): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(q);
    };
    const timer = setTimeout(() => finish({ adapter: null, reason: `the WebGPU driver did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
    worker.on('message', (q: AdapterQuery) => finish(q));
    worker.on('error', (err) => finish({ adapter: null, reason: err.message }));
    worker.on('exit', () => finish({ adapter: null, reason: 'the adapter query ended without an answer' }));
  });
}
