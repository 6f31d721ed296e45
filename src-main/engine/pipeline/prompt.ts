// Prompt → token id chunks for the CFG batch: A1111-style 75-token chunks (or
// truncation), negative and positive padded to the same chunk count.
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import type { PromptOptions } from './types.ts';

export interface PromptIds {
  /** Chunks of 77 ids for the negative prompt (row 0 of the CFG batch). */
  negative: number[][];
  /** Chunks of 77 ids for the prompt (row 1). */
  positive: number[][];
  truncated: boolean;
}

function chunks(tokenizer: ClipTokenizer, text: string, mode: 'chunk' | 'truncate', onWarning?: (m: string) => void): { ids: number[][]; truncated: boolean } {
  if (mode === 'truncate') {
    const e = tokenizer.encodeForModel(text, onWarning);
    return { ids: [e.ids], truncated: e.truncated };
  }
  return { ids: tokenizer.encodeChunks(text), truncated: false };
}

export function promptIds(tokenizer: ClipTokenizer, opts: PromptOptions, onWarning?: (m: string) => void): PromptIds {
  const mode = opts.longPrompt ?? 'chunk';
  const pos = chunks(tokenizer, opts.prompt, mode, onWarning);
  const neg = chunks(tokenizer, opts.negative ?? '', mode, onWarning);
  // The shorter side gets empty-prompt chunks so both rows have the same token count.
  const empty = tokenizer.encodeChunks('')[0]!;
  const n = Math.max(pos.ids.length, neg.ids.length);
  const pad = (ids: number[][]): number[][] => [...ids, ...Array.from({ length: n - ids.length }, () => [...empty])];
  return { negative: pad(neg.ids), positive: pad(pos.ids), truncated: pos.truncated || neg.truncated };
}
