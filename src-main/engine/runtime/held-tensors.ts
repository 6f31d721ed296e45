// Tensors the session worker keeps between runs under caller-chosen keys: Rerender's stored
// attention contexts. Feeding them back by key avoids copying hundreds of megabytes across
// threads every step, and on WebGPU they never leave GPU memory.
import type { Tensor } from 'onnxruntime-node';
import type { HeldStats } from './tensor-data.ts';

const ELEMENT_BYTES: Record<string, number> = { float32: 4, float16: 2, int64: 8, int32: 4, uint8: 1, bool: 1 };

export function tensorBytes(t: Tensor): number {
  const size = t.dims.reduce((a, d) => a * d, 1);
  return size * (ELEMENT_BYTES[t.type] ?? 0);
}

function onDevice(t: Tensor): boolean {
  return t.location === 'gpu-buffer';
}

export class HeldTensors {
  private readonly tensors = new Map<string, Tensor>();
  /** How many running calls read each tensor (acquire/release). */
  private readonly readers = new Map<Tensor, number>();
  /** GPU tensors dropped while a call still read them: freed when the last one releases them. */
  private readonly retired = new Set<Tensor>();
  private bytes = 0;
  private deviceBytes = 0;
  private peakBytes = 0;
  private peakDeviceBytes = 0;

  get(key: string): Tensor {
    const t = this.tensors.get(key);
    if (!t) throw new Error(`no held tensor "${key}" (never kept, or dropped)`);
    return t;
  }

  /**
   * The tensor under `key` for a call that reads it natively: dropping or replacing the key then
   * takes effect at once, but its GPU memory is freed only after release(t) (freeing it under a
   * running call would abort the process).
   */
  acquire(key: string): Tensor {
    const t = this.get(key);
    this.readers.set(t, (this.readers.get(t) ?? 0) + 1);
    return t;
  }

  release(t: Tensor): void {
    const n = (this.readers.get(t) ?? 0) - 1;
    if (n > 0) {
      this.readers.set(t, n);
      return;
    }
    this.readers.delete(t);
    if (this.retired.delete(t)) t.dispose();
  }

  /** Keeps `t` under `key`, releasing what the key held before. */
  set(key: string, t: Tensor): void {
    this.drop(key);
    this.tensors.set(key, t);
    this.account(t, 1);
    this.peakBytes = Math.max(this.peakBytes, this.bytes);
    this.peakDeviceBytes = Math.max(this.peakDeviceBytes, this.deviceBytes);
  }

  drop(key: string): void {
    const old = this.tensors.get(key);
    if (!old) return;
    this.tensors.delete(key);
    this.account(old, -1);
    // GPU buffers are freed now rather than whenever the garbage collector runs (or, when a
    // running call reads it, as soon as that call ends).
    if (!onDevice(old)) return;
    if (this.readers.has(old)) this.retired.add(old);
    else old.dispose();
  }

  clear(): void {
    for (const key of [...this.tensors.keys()]) this.drop(key);
  }

  stats(resetPeak = false): HeldStats {
    const s = { count: this.tensors.size, bytes: this.bytes, peakBytes: this.peakBytes, deviceBytes: this.deviceBytes, peakDeviceBytes: this.peakDeviceBytes };
    if (resetPeak) {
      this.peakBytes = this.bytes;
      this.peakDeviceBytes = this.deviceBytes;
    }
    return s;
  }

  private account(t: Tensor, sign: 1 | -1): void {
    const n = tensorBytes(t) * sign;
    this.bytes += n;
    if (onDevice(t)) this.deviceBytes += n;
  }
}
