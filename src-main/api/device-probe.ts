// The device key-frame translation would run on, probed once per services process (a one-node
// model on each execution provider in turn, about 0.2 s) so the editor can say "GPU: … · fp16" or
// "CPU · fp32" before any job runs. The probe never blocks a project from opening: it starts in
// the background, and a failure is an answer too ("device unknown", with the reason in details).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { DeviceStatus } from './contract.ts';
import type { ProbeResult } from '../engine/runtime/protocol.ts';
import { choosePrecision } from '../engine/runtime/device.ts';
import type { Precision } from '../engine/runtime/precision.ts';

export type Prober = () => Promise<ProbeResult>;

/** The engine's own probe, in its worker thread, closed right after. */
export async function probeInference(): Promise<ProbeResult> {
  // Loaded on first use: onnxruntime is not needed until then (and CLI paths never probe).
  const { InferenceHost } = await import('../engine/runtime/inference-host.ts');
  const host = new InferenceHost();
  try {
    return await host.probe();
  } finally {
    await host.close();
  }
}

/** The NVIDIA driver names its GPUs under /proc (Linux); no process is started to ask. */
export function nvidiaGpuName(root = '/proc/driver/nvidia/gpus'): string | null {
  try {
    for (const id of readdirSync(root)) {
      const text = readFileSync(path.join(root, id, 'information'), 'utf8');
      const m = /^Model:\s*(.+)$/m.exec(text);
      if (m) return m[1]!.trim();
    }
  } catch {
    // no driver, or not Linux
  }
  return null;
}

export const CPU_NOTE = 'Running on the CPU: translation will be slow';

/** What the editor shows for a probe's answer under the project's precision setting. */
export function deviceStatus(probe: ProbeResult, precision: Precision, gpuName: () => string | null = nvidiaGpuName): DeviceStatus {
  const floatType = choosePrecision(probe.device, precision).floatType;
  const p = floatType === 'float16' ? 'fp16' : 'fp32';
  const skipped = probe.notes.map((n) => `${n.message}\n${n.detail}`).join('\n\n');
  if (probe.provider === 'cpu') {
    // A note only when a GPU was looked for and not usable (not when the CPU was chosen).
    return { kind: 'cpu', label: `CPU · ${p}`, precision: p, note: probe.notes.length > 0 ? CPU_NOTE : null, details: skipped || null };
  }
  const name = probe.provider === 'cuda' ? (gpuName() ?? 'NVIDIA GPU') : probe.device.name;
  const soft = probe.device.software ? ' (software)' : '';
  return { kind: 'gpu', label: `GPU: ${name}${soft} · ${p}`, precision: p, note: null, details: skipped || null };
}

export function unknownDevice(err: unknown): DeviceStatus {
  const reason = err instanceof Error ? err.message : String(err);
  return { kind: 'unknown', label: 'device unknown', precision: null, note: null, details: `The engine could not be asked which device it would use: ${reason}` };
}

/** One probe per process, started on demand and shared by every later question. */
export class DeviceProbe {
  readonly #prober: Prober;
  #result: Promise<{ ok: true; probe: ProbeResult } | { ok: false; error: unknown }> | null = null;

  constructor(prober: Prober = probeInference) {
    this.#prober = prober;
  }

  /** Starts the probe (once); returns at once. */
  start(): void {
    this.#result ??= this.#prober().then(
      (probe) => ({ ok: true as const, probe }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  }

  async status(precision: Precision): Promise<DeviceStatus> {
    this.start();
    const r = await this.#result!;
    return r.ok ? deviceStatus(r.probe, precision) : unknownDevice(r.error);
  }

  /** The execution provider found, or null when the probe failed. */
  async provider(): Promise<ProbeResult['provider'] | null> {
    this.start();
    const r = await this.#result!;
    return r.ok ? r.probe.provider : null;
  }

  /** Waits for a probe in flight (so its worker has ended before the process shuts down). */
  async settle(): Promise<void> {
    await this.#result;
  }
}
