// Estimates before long jobs: timings of earlier jobs kept per device in the data folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIRST_RUN, TimingStore, describeEstimate, estimateSeconds } from '../../src-main/jobs/estimate.ts';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-est-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('first run says so; then the estimate comes from this device\'s timings', (t) => {
  const store = new TimingStore(tmp(t));
  assert.equal(describeEstimate(estimateSeconds(store.get('propagate', 'cpu'), 100), 'the CPU'), FIRST_RUN);
  store.record('propagate', 'cpu', { seconds: 60, units: 20 }); // 3 s per unit
  store.record('translate', 'cuda float16', { seconds: 10, units: 100, overheadSeconds: 20 });
  const cpu = store.get('propagate', 'cpu');
  assert.equal(estimateSeconds(cpu, 80), 240);
  assert.equal(describeEstimate(240, 'the CPU'), 'about 4 min on the CPU');
  assert.equal(estimateSeconds(store.get('translate', 'cuda float16'), 50), 25, 'overhead + 0.1 s × 50');
  assert.equal(store.get('translate', 'cpu float32'), null, 'per device');
  // A second job is folded in, not replacing the first.
  store.record('propagate', 'cpu', { seconds: 20, units: 20 });
  assert.equal(store.get('propagate', 'cpu')!.secondsPerUnit, 2);
  assert.equal(store.get('propagate', 'cpu')!.samples, 2);
  assert.equal(store.latest('propagate')!.device, 'cpu');
  assert.equal(JSON.parse(readFileSync(store.file, 'utf8')).length, 2);
});

test('nothing to do, and jobs too small to time, say nothing wrong', (t) => {
  const store = new TimingStore(tmp(t));
  assert.equal(estimateSeconds(null, 0), 0);
  assert.equal(describeEstimate(0, 'the CPU'), 'nothing to do');
  assert.equal(store.record('propagate', 'cpu', { seconds: 5, units: 0 }), null);
  assert.equal(store.get('propagate', 'cpu'), null);
});

test('wording rounds as a person would', () => {
  assert.equal(describeEstimate(20, 'the GPU'), 'under a minute on the GPU');
  assert.equal(describeEstimate(89, 'the CPU'), 'about 1 min on the CPU');
  assert.equal(describeEstimate(2 * 3600 + 25 * 60, 'the CPU'), 'about 2 h 30 min on the CPU');
  assert.equal(describeEstimate(3600, 'the CPU'), 'about 1 h on the CPU');
});

test('a damaged or unwritable timings file never fails anything', (t) => {
  const dir = tmp(t);
  const store = new TimingStore(dir);
  writeFileSync(store.file, '{not json');
  assert.deepEqual(store.all(), []);
  writeFileSync(store.file, JSON.stringify([{ kind: 'propagate', device: 'cpu', secondsPerUnit: 'x' }]));
  assert.deepEqual(store.all(), []);
  if (process.getuid?.() !== 0) {
    rmSync(store.file);
    chmodSync(dir, 0o500);
    t.after(() => chmodSync(dir, 0o700));
    assert.equal(store.record('propagate', 'cpu', { seconds: 5, units: 5 }), null);
  }
});
