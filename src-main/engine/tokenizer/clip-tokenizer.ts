// CLIP byte-level BPE tokenizer (SD 1.x text encoder), matching transformers' CLIPTokenizer:
// NFC, whitespace runs -> one space, lowercase, CLIP's split regex, byte-to-unicode mapping,
// BPE by merge rank with `</w>` marking a word's last symbol. No ftfy.
import fs from 'node:fs';
import zlib from 'node:zlib';
import nodePath from 'node:path';
import { CodedError } from '../../errors.ts';

export const CONTEXT_LENGTH = 77;
/** Tokens per A1111 chunk between BOS and EOS. */
export const CHUNK_TOKENS = CONTEXT_LENGTH - 2;

export class TokenizerError extends CodedError<'TOKENIZER_FAILED'> {
  constructor(message: string) {
    super('TOKENIZER_FAILED', message);
  }
}

/**
 * GPT-2/CLIP reversible byte -> printable unicode character table, indexed by byte value, and
 * the characters in CLIP's vocabulary order (printable bytes first, then the remapped ones).
 */
function bytesToUnicode(): { table: string[]; order: string[] } {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCodePoint(b);
  const order = bs.map((b) => String.fromCodePoint(b));
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      const c = String.fromCodePoint(256 + n++);
      table[b] = c;
      order.push(c);
    }
  }
  return { table, order };
}

const { table: BYTE_CHARS, order: VOCAB_BYTE_ORDER } = bytesToUnicode();
// \s in the Rust regex of `tokenizers` is Unicode White_Space; JS \s differs slightly (e.g. U+FEFF)
const WHITESPACE_RUN = /\p{White_Space}+/gu;
const SPLIT = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}]+/gu;

export interface EncodedPrompt {
  /** Exactly 77 ids: BOS, tokens, EOS, EOS padding. */
  readonly ids: number[];
  /** True when tokens past 75 were dropped. */
  readonly truncated: boolean;
  /** Token count without BOS/EOS before truncation. */
  readonly tokenCount: number;
}

export class ClipTokenizer {
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly ranks: ReadonlyMap<string, number>;
  private readonly cache = new Map<string, number[]>();

  constructor(vocab: ReadonlyMap<string, number>, merges: readonly (readonly [string, string])[]) {
    this.vocab = vocab;
    const ranks = new Map<string, number>();
    merges.forEach(([a, b], i) => ranks.set(`${a} ${b}`, i));
    this.ranks = ranks;
    const bos = vocab.get('<|startoftext|>');
    const eos = vocab.get('<|endoftext|>');
    if (bos === undefined || eos === undefined) throw new TokenizerError('vocabulary lacks <|startoftext|> / <|endoftext|>');
    this.bos = bos;
    this.eos = eos;
    this.pad = eos; // SD 1.x pads with <|endoftext|>
  }

  /** How many token ids this vocabulary can produce (ids are 0..size-1). */
  get size(): number {
    return this.vocab.size;
  }

  /** From CLIP's bpe_simple_vocab_16e6.txt.gz (the vocabulary is derived as CLIP does). */
  static fromBpeGz(path: string): ClipTokenizer {
    const lines = zlib.gunzipSync(fs.readFileSync(path)).toString('utf8').split('\n');
    const merges = lines.slice(1, 49152 - 256 - 2 + 1).map(parseMerge);
    const vocabList = [...VOCAB_BYTE_ORDER, ...VOCAB_BYTE_ORDER.map((c) => c + '</w>'), ...merges.map(([a, b]) => a + b), '<|startoftext|>', '<|endoftext|>'];
    return new ClipTokenizer(new Map(vocabList.map((t, i) => [t, i])), merges);
  }

  /** From a Hugging Face tokenizer folder (vocab.json + merges.txt). */
  static fromFolder(dir: string): ClipTokenizer {
    const vocabPath = nodePath.join(dir, 'vocab.json');
    const mergesPath = nodePath.join(dir, 'merges.txt');
    if (!fs.existsSync(vocabPath) || !fs.existsSync(mergesPath)) throw new TokenizerError(`${dir} has no vocab.json + merges.txt`);
    const vocab = JSON.parse(fs.readFileSync(vocabPath, 'utf8')) as Record<string, number>;
    const merges = fs
      .readFileSync(mergesPath, 'utf8')
      .split('\n')
      .filter((l, i) => l.trim() !== '' && !(i === 0 && l.startsWith('#version')))
      .map(parseMerge);
    return new ClipTokenizer(new Map(Object.entries(vocab)), merges);
  }

  /** Token ids of a prompt without BOS/EOS. */
  encode(text: string): number[] {
    const clean = lowercasePerChar(text.normalize('NFC').replace(WHITESPACE_RUN, ' '));
    const out: number[] = [];
    for (const m of clean.matchAll(SPLIT)) {
      const piece = m[0];
      if (piece === '<|startoftext|>') out.push(this.bos);
      else if (piece === '<|endoftext|>') out.push(this.eos);
      else out.push(...this.bpe(piece));
    }
    return out;
  }

  /** 77 ids for the text encoder; tokens beyond 75 are dropped and reported through `onWarning`. */
  encodeForModel(text: string, onWarning?: (message: string) => void): EncodedPrompt {
    const tokens = this.encode(text);
    const truncated = tokens.length > CHUNK_TOKENS;
    if (truncated) onWarning?.(`prompt has ${tokens.length} tokens; only the first ${CHUNK_TOKENS} are used`);
    return { ids: this.frame(tokens.slice(0, CHUNK_TOKENS)), truncated, tokenCount: tokens.length };
  }

  /** A1111-style long prompts: 75-token pieces, each framed as BOS + piece + EOS padding (77 ids). */
  encodeChunks(text: string): number[][] {
    const tokens = this.encode(text);
    const chunks: number[][] = [];
    for (let i = 0; i < tokens.length; i += CHUNK_TOKENS) chunks.push(this.frame(tokens.slice(i, i + CHUNK_TOKENS)));
    return chunks.length ? chunks : [this.frame([])];
  }

  private frame(tokens: readonly number[]): number[] {
    const ids = [this.bos, ...tokens, this.eos];
    while (ids.length < CONTEXT_LENGTH) ids.push(this.pad);
    return ids;
  }

  private bpe(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    let word = [...Buffer.from(piece, 'utf8')].map((b) => BYTE_CHARS[b]!);
    word[word.length - 1] = word[word.length - 1]! + '</w>';
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]!} ${word[i + 1]!}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      // merge every occurrence of the best pair, left to right
      const a = word[best]!;
      const b = word[best + 1]!;
      const next: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === a && word[i + 1] === b) {
          next.push(a + b);
          i++;
        } else {
          next.push(word[i]!);
        }
      }
      word = next;
    }
    const ids = word.map((s) => {
      const id = this.vocab.get(s);
      if (id === undefined) throw new TokenizerError(`symbol ${JSON.stringify(s)} is not in the vocabulary`);
      return id;
    });
    this.cache.set(piece, ids);
    return ids;
  }
}

/** Lowercases each code point alone, as `tokenizers` does (no context rules such as final sigma). */
function lowercasePerChar(s: string): string {
  let out = '';
  for (const c of s) out += c.toLowerCase();
  return out;
}

function parseMerge(line: string): [string, string] {
  const parts = line.trim().split(' ');
  if (parts.length !== 2) throw new TokenizerError(`bad merge line ${JSON.stringify(line)}`);
  return [parts[0]!, parts[1]!];
}
