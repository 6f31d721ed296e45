// Execution-provider choice: try each in order (cuda → webgpu → cpu unless
// forced), keep a note for every provider that could not be used.
import { CodedError } from '../../errors.ts';

export type ExecutionProvider = 'cuda' | 'webgpu' | 'cpu';
export type ProviderSetting = 'auto' | ExecutionProvider;

export const AUTO_ORDER: readonly ExecutionProvider[] = ['cuda', 'webgpu', 'cpu'];

/** One provider that was skipped, and why. */
export interface ProviderNote {
  provider: ExecutionProvider;
  /** For an artist: what happened, what runs instead, and at most one line on what to install. */
  message: string;
  /** For `--help`, logs and a details toggle: the engine's own reason and the full remedy. */
  detail: string;
}

export class ProviderUnavailableError extends CodedError<'ENGINE_UNAVAILABLE'> {
  readonly notes: ProviderNote[];
  constructor(notes: ProviderNote[], message?: string) {
    super('ENGINE_UNAVAILABLE', message ?? `The model could not run on this computer. ${notes.map((n) => n.message).join(' ')}`);
    this.notes = notes;
  }
}

/** A provider that opened but is not worth using unless forced (e.g. a software WebGPU adapter). */
export class ProviderDeclinedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderDeclinedError';
  }
}

export function providerOrder(setting: ProviderSetting): ExecutionProvider[] {
  return setting === 'auto' ? [...AUTO_ORDER] : [setting];
}

export function providerLabel(p: ExecutionProvider): string {
  return p === 'cuda' ? 'CUDA' : p === 'webgpu' ? 'WebGPU' : 'the CPU';
}

/** First line of an ORT error, without the source-path noise. */
export function shortReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n')[0] ?? text;
  // ORT prefixes the reason with source locations and assertion text; keep the human part.
  const failed = /(Failed to .*)$/.exec(line);
  const status = /Status Message: (.*)$/.exec(line);
  // A status carries "file:line function(args)" before its reason.
  const reason = status ? status[1]!.replace(/^\S+:\d+ [\w:~<>]+(?:\([^)]*\))? /, '') : line;
  return (failed ? failed[1]! : reason).replace(TERMINAL_COLOUR, '').trim().slice(0, 240);
}

/** ORT colours its log lines, and an error's message can carry the escape codes. */
const TERMINAL_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

interface Diagnosis {
  /** What happened, in plain words. */
  what: string;
  /** One line on what to install, or ''. */
  install: string;
  /** The whole remedy (commands, versions), or ''. */
  remedy: string;
}

/** What a provider failure means for the user, from the engine's reason. */
export function diagnose(provider: ExecutionProvider, reason: string): Diagnosis {
  if (provider === 'cuda') {
    if (/shared librar|providers_(cuda|shared)/i.test(reason)) {
      return {
        what: 'its GPU add-on is not installed',
        install: 'To use an NVIDIA GPU, install the NVIDIA driver, CUDA 12 and cuDNN 9, then the engine\'s CUDA add-on.',
        remedy: 'With network access run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (it needs an NVIDIA driver, CUDA 12 and cuDNN 9).',
      };
    }
    if (/no CUDA-capable device|CUDA driver|cudaErrorNoDevice|cudaErrorInsufficientDriver/i.test(reason)) {
      return { what: 'no NVIDIA GPU with a working driver was found', install: '', remedy: 'Check `nvidia-smi`; install or update the NVIDIA driver.' };
    }
  }
  if (provider === 'webgpu') {
    if (/adapter/i.test(reason) && !/software/i.test(reason)) {
      return {
        what: 'no GPU driver with WebGPU support was found',
        install: 'To use the GPU, install its Vulkan driver (Linux) or update the graphics driver (Windows, macOS).',
        remedy: 'WebGPU needs a GPU with a Vulkan driver (Linux), D3D12 (Windows) or Metal (macOS). A software Vulkan driver (SwiftShader) works only when WebGPU is chosen explicitly, and is slower than the CPU.',
      };
    }
    if (/requires f16|shader-f16/i.test(reason)) {
      return { what: 'this GPU cannot compute in 16-bit floats', install: '', remedy: 'Choose full precision (`--precision fp32`).' };
    }
  }
  if (/out of memory|OOM|failed to allocate|allocation failed/i.test(reason)) {
    return { what: 'it ran out of memory', install: '', remedy: 'Close other GPU programs, or use a smaller working size.' };
  }
  return { what: reason, install: '', remedy: '' };
}

/** The note for a provider that was skipped, naming what runs instead (`next`, if any). */
export function fallbackNote(provider: ExecutionProvider, err: unknown, next: ExecutionProvider | undefined): ProviderNote {
  const reason = shortReason(err);
  const d = err instanceof ProviderDeclinedError ? { what: reason, install: '', remedy: '' } : diagnose(provider, reason);
  const message = [`${providerLabel(provider)} is not used: ${d.what}.`, next ? `Running on ${providerLabel(next)} instead.` : '', d.install].filter(Boolean).join(' ');
  return { provider, message, detail: `${provider}: ${reason}${d.remedy ? `. ${d.remedy}` : ''}` };
}

/**
 * Opens with the first provider that works. `open` throws when a provider
 * cannot be used; each failure becomes a note saying what comes next.
 */
export async function openWithFallback<T>(order: ExecutionProvider[], open: (provider: ExecutionProvider) => Promise<T>): Promise<{ value: T; provider: ExecutionProvider; notes: ProviderNote[] }> {
  const notes: ProviderNote[] = [];
  for (let i = 0; i < order.length; i++) {
    const provider = order[i]!;
    try {
      return { value: await open(provider), provider, notes };
    } catch (err) {
      notes.push(fallbackNote(provider, err, order[i + 1]));
    }
  }
  throw new ProviderUnavailableError(notes);
}
