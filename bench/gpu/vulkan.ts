// The environment WebGPU needs on a headless NVIDIA machine: onnxruntime's WebGPU EP is Dawn
// over Vulkan, so it needs the Vulkan loader (libvulkan.so.1), the NVIDIA ICD manifest, and an
// XDG_RUNTIME_DIR (the loader and driver warn or fail without one). The device machines of this
// workplace ship the driver but neither the loader nor the variables, hence this setup.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where NVIDIA's container toolkit and the distribution packages put the ICD manifest. */
export const NVIDIA_ICD_CANDIDATES = [
  '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json',
  '/usr/share/vulkan/icd.d/nvidia_icd.json',
  '/etc/vulkan/icd.d/nvidia_icd.json',
];

function hasVulkanLoader(): boolean {
  try {
    return /libvulkan\.so\.1\b/.test(execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return false;
  }
}

/**
 * Loader packages brought in `debDir` (bench/gpu/README.md) are unpacked over / and registered
 * with ldconfig: only as root, and only when no loader is installed, since they overwrite files.
 */
function unpackLoaders(debDir: string, notes: string[]): void {
  const debs = existsSync(debDir) ? readdirSync(debDir).filter((f) => f.endsWith('.deb')) : [];
  if (debs.length === 0) {
    notes.push(`no Vulkan loader (libvulkan.so.1) and no ${debDir}/*.deb to unpack: see bench/gpu/README.md`);
    return;
  }
  if (process.getuid?.() !== 0) {
    notes.push(`no Vulkan loader; unpack ${debDir}/*.deb as root: for f in ${debDir}/*.deb; do dpkg -x $f /; done; ldconfig`);
    return;
  }
  try {
    for (const f of debs) execFileSync('dpkg', ['-x', join(debDir, f), '/'], { stdio: 'ignore' });
    execFileSync('ldconfig', { stdio: 'ignore' });
    notes.push(`unpacked ${debs.length} loader package(s) from ${debDir}`);
  } catch (err) {
    notes.push(`unpacking ${debDir}/*.deb failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

/** The child's environment for the WebGPU provider, and what was changed (for the report). */
export function webgpuEnvironment(base: NodeJS.ProcessEnv, debDir: string): { env: NodeJS.ProcessEnv; notes: string[] } {
  const env = { ...base };
  const notes: string[] = [];
  if (!hasVulkanLoader()) unpackLoaders(debDir, notes);
  if (!env['VK_ICD_FILENAMES'] && !env['VK_DRIVER_FILES']) {
    const icd = NVIDIA_ICD_CANDIDATES.find((p) => existsSync(p));
    if (icd) {
      // VK_DRIVER_FILES for loaders since 1.3.207, VK_ICD_FILENAMES for older ones.
      env['VK_DRIVER_FILES'] = icd;
      env['VK_ICD_FILENAMES'] = icd;
      notes.push(`VK_DRIVER_FILES=${icd}`);
    }
  }
  if (!env['XDG_RUNTIME_DIR']) {
    env['XDG_RUNTIME_DIR'] = mkdtempSync(join(tmpdir(), 'xdg-runtime-'));
    notes.push(`XDG_RUNTIME_DIR=${env['XDG_RUNTIME_DIR']}`);
  }
  return { env, notes };
}
