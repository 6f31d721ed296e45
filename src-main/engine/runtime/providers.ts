// Execution-provider choice: try each in order (cuda → webgpu → cpu unless
// forced), keep a note for every provider that could not be used.
import { CodedError } from '../../errors.ts';

export type ExecutionProvider = 'cuda' | 'webgpu' | 'cpu';
export type ProviderSetting = 'auto' | ExecutionProvider;

export const AUTO_ORDER: readonly ExecutionProvider[] = ['cuda', 'webgpu', 'cpu'];

/** One provider that was skipped, and why (shown to the user). */
export interface ProviderNote {
  provider: ExecutionProvider;
  message: string;
}

export class ProviderUnavailableError extends CodedError<'ENGINE_UNAVAILABLE'> {
  readonly notes: ProviderNote[];
  constructor(notes: ProviderNote[]) {
    super('ENGINE_UNAVAILABLE', `no execution provider could run the model: ${notes.map((n) => `${n.provider}: ${n.message}`).join('; ')}`);
    this.notes = notes;
  }
}

export function providerOrder(setting: ProviderSetting): ExecutionProvider[] {
  return setting === 'auto' ? [...AUTO_ORDER] : [setting];
}

/** First line of an ORT error, without the source-path noise. */
export function shortReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n')[0] ?? text;
  // ORT prefixes the reason with source locations and assertion text; keep the human part.
  const failed = /(Failed to .*)$/.exec(line);
  return (failed ? failed[1]! : line).slice(0, 240);
}

/** What the user can do about a provider that failed with `reason`, or '' when we cannot tell. */
export function providerRemedy(provider: ExecutionProvider, reason: string): string {
  if (provider === 'cuda') {
    if (/shared librar|providers_(cuda|shared)/i.test(reason)) {
      return 'The CUDA execution provider is not installed: with network access run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (it needs an NVIDIA driver, CUDA 12 and cuDNN 9)';
    }
    if (/no CUDA-capable device|CUDA driver|cudaErrorNoDevice|cudaErrorInsufficientDriver/i.test(reason)) return 'No NVIDIA GPU with a working driver was found';
  }
  if (provider === 'webgpu' && /adapter/i.test(reason)) {
    return 'No WebGPU adapter: it needs a GPU with a Vulkan driver (Linux), D3D12 (Windows) or Metal (macOS); software Vulkan does not work';
  }
  return '';
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
      const next = order[i + 1];
      const reason = shortReason(err);
      const remedy = providerRemedy(provider, reason);
      notes.push({ provider, message: `${provider} unavailable (${reason}${remedy ? `. ${remedy}` : ''})${next ? `; falling back to ${next}` : ''}` });
    }
  }
  throw new ProviderUnavailableError(notes);
}
