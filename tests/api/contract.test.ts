import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestSchemas } from '../../src-main/api/contract.ts';

test('contract rejects malformed arguments', () => {
  assert.equal(requestSchemas.addKeyframe.safeParse([-1]).success, false);
  assert.equal(requestSchemas.addKeyframe.safeParse([1.5]).success, false);
  assert.equal(requestSchemas.addKeyframe.safeParse([3]).success, true);
  assert.equal(requestSchemas.startJob.safeParse([{ kind: 'export' }]).success, false);
  assert.equal(requestSchemas.startJob.safeParse([{ kind: 'export', outPath: 'a.mp4', crf: 18 }]).success, true);
  assert.equal(requestSchemas.startJob.safeParse([{ kind: 'nope' }]).success, false);
});
