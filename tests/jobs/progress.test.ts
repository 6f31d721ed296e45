import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressTracker, abortError, isAbortError, throwIfAborted } from '../../src-main/jobs/progress.ts';
import { formatDuration } from '../../src-main/jobs/format.ts';

test('ETA follows the measured rate and resumed work is counted as done', () => {
  let t = 0;
  const seen: number[] = [];
  const p = new ProgressTracker({ stage: 'render', total: 10, alreadyDone: 4, now: () => t, onProgress: (x) => seen.push(x.done) });
  assert.equal(p.snapshot().etaSeconds, null);
  t += 2000;
  p.advance();
  assert.equal(p.done, 5);
  assert.equal(p.snapshot().etaSeconds, null, 'one unit is too few for an ETA');
  t += 2000;
  p.advance();
  assert.equal(p.snapshot().etaSeconds, 8); // 4 left at 2 s each
  t += 2000;
  p.advance(4);
  assert.equal(p.snapshot().etaSeconds, 0);
  assert.deepEqual(seen, [5, 6, 10]);
  assert.throws(() => new ProgressTracker({ stage: 'x', total: -1 }), RangeError);
});

test('abort helpers', () => {
  const c = new AbortController();
  throwIfAborted(c.signal);
  c.abort();
  assert.throws(() => throwIfAborted(c.signal), (e: unknown) => isAbortError(e));
  assert.equal(abortError().name, 'AbortError');
});

test('formatDuration', () => {
  assert.equal(formatDuration(null), '--:--');
  assert.equal(formatDuration(65), '1:05');
  assert.equal(formatDuration(3725), '1:02:05');
});
