// Crash safety: a writer process is SIGKILLed at random moments; every frame it reported done must
// be in the file, byte for byte, and the file must open and pass SQLite's integrity check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Project } from '../../src-main/project/index.ts';
import { CRASH_FRAME_COUNT, crashBytes } from './crash-bytes.ts';
import { initFor, makeVideo, tempDir } from './fixtures.ts';

const NODE = path.resolve(import.meta.dirname, '../../node_modules/.bin/node');
const WRITER = path.join(import.meta.dirname, 'crash-writer.ts');
const ROUNDS = 25;

/** mulberry32: a seeded generator, so a failing run can be replayed with CRASH_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type KillPlan = { after: 'spawn' | 'ready'; ms: number } | { after: 'frames'; n: number } | { after: 'never' };

interface Outcome {
  frames: number[];
  jobId: string | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runWriter(file: string, round: number, plan: KillPlan, count?: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const args = [WRITER, file, String(round), plan.after === 'never' ? 'clean' : 'kill'];
    if (count !== undefined) args.push(String(count));
    const child = spawn(NODE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Outcome = { frames: [], jobId: null, code: null, signal: null, stderr: '' };
    const kill = () => child.kill('SIGKILL');
    const guard = setTimeout(kill, 20_000);
    if (plan.after === 'spawn') setTimeout(kill, plan.ms);
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('done ')) {
          out.frames.push(Number(line.slice(5)));
          if (plan.after === 'frames' && out.frames.length === plan.n) kill();
        } else if (line.startsWith('job ')) {
          out.jobId = line.slice(4);
        } else if (line === 'ready' && plan.after === 'ready') {
          setTimeout(kill, plan.ms);
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (out.stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      out.code = code;
      out.signal = signal;
      resolve(out);
    });
  });
}

test('renders reported done survive SIGKILL of the writer at random moments', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'crash.rrproj');
  Project.create(file, initFor(makeVideo(dir), CRASH_FRAME_COUNT)).close();

  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1e9);
  const random = rng(seed);
  const ctx = `(CRASH_SEED=${seed})`;
  let reportedTotal = 0;
  let walLeftBehind = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const plans: KillPlan[] = [
      { after: 'ready', ms: 20 + Math.floor(random() * 181) },
      { after: 'frames', n: 1 + Math.floor(random() * 30) },
      { after: 'spawn', ms: 20 + Math.floor(random() * 181) },
    ];
    const plan = plans[round % plans.length] as KillPlan;
    const out = await runWriter(file, round, plan);
    const where = `round ${round}, plan ${JSON.stringify(plan)} ${ctx}`;
    assert.equal(out.signal, 'SIGKILL', `writer should have been killed: ${where}\n${out.stderr}`);
    reportedTotal += out.frames.length;
    if (existsSync(`${file}-wal`)) walLeftBehind++;

    const p = Project.open(file);
    try {
      assert.equal(p.integrityCheck(), 'ok', where);
      for (const frame of out.frames) {
        const r = p.getRender(frame);
        assert.ok(r, `frame ${frame} reported done but missing: ${where}`);
        assert.ok(r.image.equals(crashBytes(frame, round)), `frame ${frame} has wrong bytes: ${where}`);
        assert.equal(r.runId, `round-${round}`, where);
      }
      assert.deepEqual(p.listJobs({ status: 'running' }), [], `no job may stay running: ${where}`);
      if (out.jobId !== null) assert.equal(p.getJob(out.jobId)?.status, 'cancelled', where);
    } finally {
      p.close();
    }
  }
  // The test only means something if the writer got to write, and was killed with work in its WAL.
  assert.ok(reportedTotal >= ROUNDS, `only ${reportedTotal} frames reported in ${ROUNDS} rounds ${ctx}`);
  assert.ok(walLeftBehind > 0, `no kill left a WAL to recover ${ctx}`);
});

test('a writer that ends cleanly leaves one standalone file', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'clean.rrproj');
  Project.create(file, initFor(makeVideo(dir), CRASH_FRAME_COUNT)).close();
  const out = await runWriter(file, 7, { after: 'never' }, 20);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.frames.length, 20);
  assert.deepEqual(readdirSync(dir).sort(), ['clean.rrproj', 'clip.mp4'], 'no -wal or -shm after close');

  // The file alone, copied elsewhere, holds everything.
  const elsewhere = path.join(dir, 'copy');
  mkdirSync(elsewhere);
  const copy = path.join(elsewhere, 'clean.rrproj');
  copyFileSync(file, copy);
  const p = Project.open(copy);
  t.after(() => p.close());
  assert.equal(p.integrityCheck(), 'ok');
  assert.deepEqual(p.renderedFrames('params-7'), Array.from({ length: 20 }, (_, i) => i));
  for (let f = 0; f < 20; f++) assert.ok(p.getRender(f)?.image.equals(crashBytes(f, 7)), `frame ${f}`);
  assert.equal(out.jobId !== null && p.getJob(out.jobId)?.status, 'done');
});
