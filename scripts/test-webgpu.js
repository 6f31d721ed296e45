// The WebGPU lane of `npm test`: the engine's parity tests again, on onnxruntime's WebGPU execution
// provider, with the same bounds as on the CPU. Machines without a GPU run it on SwiftShader, the
// software Vulkan driver Debian's chromium ships, so CI checks the GPU code paths too (slowly: speed
// is measured by `npm run bench:gpu` on a real GPU).
//   node scripts/test-webgpu.js [test files…]
// A Vulkan driver already chosen through VK_ICD_FILENAMES or VK_DRIVER_FILES is kept; otherwise
// SwiftShader is used where found, else the system's drivers. With no adapter at all the lane says
// it is skipped and why, except under CI, where that fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Each graph kind, the cross-frame hooks, FreeU, LoRA merges, the pipeline, and Rerender's three key frames. */
const LANE = [
  'tests/engine/graph/models.test.ts',
  'tests/engine/graph/cross-frame.test.ts',
  'tests/engine/graph/freeu.test.ts',
  'tests/engine/pipeline/parity.test.ts',
  'tests/engine/pipeline/hooks.test.ts',
  'tests/engine/runtime/webgpu.test.ts',
  'tests/rerender/parity.test.ts',
  'tests/propagate/gpu/synth.test.ts',
  'tests/propagate/gpu/blend.test.ts',
  'tests/propagate/gpu/guides.test.ts',
  'tests/propagate/gpu/sequence.test.ts',
];

function swiftShaderIcd() {
  const listed = spawnSync('dpkg', ['-L', 'chromium-common'], { encoding: 'utf8' });
  const fromPackage = listed.status === 0 ? listed.stdout.split('\n').filter((l) => l.endsWith('/vk_swiftshader_icd.json')) : [];
  return [...fromPackage, '/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib64/chromium/vk_swiftshader_icd.json'].find((p) => existsSync(p)) ?? null;
}

const env = { ...process.env, RERENDER_TEST_PROVIDER: 'webgpu' };
let driver = 'the Vulkan driver chosen in the environment';
if (!env.VK_ICD_FILENAMES && !env.VK_DRIVER_FILES) {
  const icd = swiftShaderIcd();
  if (icd) {
    env.VK_ICD_FILENAMES = icd;
    driver = `SwiftShader (${icd})`;
  } else {
    driver = "the system's Vulkan drivers";
  }
}
// Dawn's Vulkan backend wants a runtime directory; a bare CI shell has none.
env.XDG_RUNTIME_DIR ||= mkdtempSync(join(tmpdir(), 'rerender-xdg-'));

// A script on the command line, not a module flag: the engine's worker threads inherit execArgv.
const probe = spawnSync(process.execPath, ['-e', `(async () => {
  const { InferenceHost } = await import(${JSON.stringify(join(root, 'src-main/engine/runtime/inference-host.ts'))});
  const host = new InferenceHost({ provider: 'webgpu' });
  try { console.log(JSON.stringify((await host.probe()).device)); }
  catch (e) { console.log(JSON.stringify({ error: (e.notes ?? []).map((n) => n.detail).join('; ') || e.message })); }
  finally { await host.close(); }
})()
`], { env, encoding: 'utf8', cwd: root });
const answer = (probe.stdout ?? '').trim().split('\n').pop() ?? '';
let device;
try {
  device = JSON.parse(answer);
} catch {
  device = { error: `the adapter probe failed: ${(probe.stderr ?? '').trim().split('\n').pop() ?? probe.status}` };
}
if (device.error) {
  const why = `no WebGPU adapter through ${driver}: ${device.error}`;
  if (process.env.CI) {
    console.error(`WebGPU lane: FAILED, CI must run it (${why}). Install Debian's chromium, which ships SwiftShader.`);
    process.exit(1);
  }
  console.log(`WebGPU lane: skipped (${why}). Install Debian's chromium for SwiftShader, or a GPU's Vulkan driver.`);
  process.exit(0);
}
console.log(`WebGPU lane on ${device.name}${device.software ? ' (software)' : ''} via ${driver}; fp16 shaders: ${device.float16 ? 'yes' : 'no'}; largest binding: ${(device.maxBindingBytes / 2 ** 20).toFixed(0)} MiB`);
const files = process.argv.length > 2 ? process.argv.slice(2) : LANE;
const started = Date.now();
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { env, stdio: 'inherit', cwd: root });
console.log(`WebGPU lane: ${files.length} file(s) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(run.status ?? 1);
