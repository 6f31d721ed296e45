import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodePath from 'node:path';
import { ClipTokenizer } from '../../../src-main/engine/tokenizer/clip-tokenizer.ts';
import { CLIP_VOCAB, FIXTURES, refI64 } from './fixtures.ts';

interface Case { prompt: string; ids: number[]; ids77: number[]; truncated: boolean; chunks: number[][] }
const ref = JSON.parse(fs.readFileSync(nodePath.join(FIXTURES, 'tokenizer-ref.json'), 'utf8')) as { cases: Case[] };
const tok = ClipTokenizer.fromBpeGz(CLIP_VOCAB);

test('real CLIP vocabulary: special ids and vocab size', () => {
  assert.equal(tok.bos, 49406);
  assert.equal(tok.eos, 49407);
  assert.equal(tok.pad, 49407);
});

for (const c of ref.cases) {
  test(`ids equal transformers' CLIPTokenizer: ${JSON.stringify(c.prompt.slice(0, 40))}`, () => {
    assert.deepEqual([tok.bos, ...tok.encode(c.prompt), tok.eos], c.ids);
    const warnings: string[] = [];
    const enc = tok.encodeForModel(c.prompt, (m) => warnings.push(m));
    assert.deepEqual(enc.ids, c.ids77);
    assert.equal(enc.truncated, c.truncated);
    assert.equal(warnings.length, c.truncated ? 1 : 0);
    assert.deepEqual(tok.encodeChunks(c.prompt), c.chunks);
  });
}

test('the long prompt really is chunked into several 77-id pieces', () => {
  const long = ref.cases.find((c) => c.truncated);
  assert.ok(long);
  const chunks = tok.encodeChunks(long.prompt);
  assert.ok(chunks.length >= 3);
  for (const ch of chunks) {
    assert.equal(ch.length, 77);
    assert.equal(ch[0], 49406);
    assert.equal(ch[76], 49407);
  }
});

test('tiny fixture tokenizer (vocab.json + merges.txt) reproduces the text-encoder input ids', () => {
  const tiny = ClipTokenizer.fromFolder(nodePath.join(FIXTURES, 'tiny-sd', 'tokenizer'));
  assert.equal(tiny.bos, 1512);
  assert.deepEqual(tiny.encodeForModel('a watercolor painting of a fox in the snow').ids, refI64('te.ids.0'));
  assert.deepEqual(tiny.encodeForModel('blurry, low quality, ugly').ids, refI64('te.ids.1'));
});
