// SIGKILL at a seeded point of propagate, translate or export (a child CLI), then: the project
// is whole, nothing reported done is lost, a rerun finishes, and nothing partial is left.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FuzzClass } from '../harness.ts';
import { rng, type Rng } from '../generators/prng.ts';
import { baseFixture, copyProject, FRAMES, type BaseFixture } from '../fixtures.ts';
import { Project } from '../../../src-main/project/index.ts';
import { decodePng } from '../../../src-main/media/index.ts';
import { cli, cliChild, expectIntact, expectTypedExit, fail, leftovers, renderDigest, ROOT, sha, within, type ChildRun } from '../support.ts';

const ENGINE = path.join(ROOT, 'tests', 'fixtures', 'engine');
const MODELS = ['--model', path.join(ENGINE, 'tiny-sd'), '--controlnet', path.join(ENGINE, 'tiny-controlnet')];
const KEYS = [0, 5, 10];

interface KillFixture extends BaseFixture {
  /** Key frames 0, 5, 10 without images, 2 DDIM steps: translate's input. */
  toTranslate: string;
  engineCache: string;
}

type Op = 'propagate' | 'translate' | 'export';

/** Kills the child after k progress lines or after a delay, whichever the seed chose; returns the last `done` seen. */
async function killAt(r: Rng, run: ChildRun, maxLines: number, delay: [number, number]): Promise<{ how: string; lastDone: number; lines: Record<string, unknown>[] }> {
  const progress = (ls: Record<string, unknown>[]) => ls.filter((l) => l.type === 'progress');
  let how: string;
  if (r.bool(0.6)) {
    const k = r.int(1, maxLines);
    how = `after ${k} progress lines`;
    await within(45_000, 'waiting for progress', run.until((ls) => progress(ls).length >= k));
  } else {
    const ms = r.int(delay[0], delay[1]);
    how = `after ${ms} ms`;
    await new Promise((res) => setTimeout(res, ms));
  }
  const lines = run.lines();
  run.child.kill('SIGKILL');
  const end = await within(10_000, 'killed child to close', run.done);
  if (end.signal !== 'SIGKILL') how += ` (it had already ended: exit ${end.code})`;
  const ds = progress(lines).map((l) => Number(l.done));
  return { how, lastDone: ds.length ? Math.max(...ds) : 0, lines };
}

/** Processes still working inside `dir` after their parent was killed (ffmpeg orphans). */
function orphans(dir: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(dir) && Number(pid) !== process.pid) out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function keyImages(file: string): Map<number, string> {
  const p = Project.open(file);
  try {
    const out = new Map<number, string>();
    for (const f of KEYS) {
      const k = p.getKeyframe(f);
      if (k?.image) {
        try {
          decodePng(k.image);
        } catch {
          fail('lost', `key frame ${f}'s stored image is not a readable PNG after the kill`);
        }
        out.set(f, sha(k.image));
      }
    }
    return out;
  } finally {
    p.close();
  }
}

export const kill: FuzzClass<KillFixture> = {
  name: 'kill',
  async setup(dir) {
    const f = await baseFixture(dir);
    const toTranslate = path.join(dir, 'translate.rrproj');
    const init = await cli(['init', f.clip, '-o', toTranslate, '--size', '64']);
    const keys = await cli(['keyframes', toTranslate, '--set', KEYS.join(',')]);
    if (init.code !== 0 || keys.code !== 0) fail('other', `translate fixture: ${init.stdout}${keys.stdout}`);
    const p = Project.open(toTranslate);
    p.updateSettings({ steps: 2 });
    p.close();
    return { ...f, toTranslate, engineCache: path.join(dir, 'engine') };
  },
  async run(f, seed, caseDir) {
    const r = rng(seed);
    // Translate is the costly one: once in five; the other two alternate.
    const op: Op = (['propagate', 'export', 'translate', 'propagate', 'export'] as const)[seed % 5]!;
    if (op === 'propagate') {
      const proj = copyProject(f.keyed, caseDir);
      const run = cliChild(['propagate', proj]);
      const k = await killAt(r, run, FRAMES - 1, [400, 1500]);
      const kept = expectIntact(proj, null, { afterKill: true });
      if (kept.size < k.lastDone) fail('lost', `propagate killed ${k.how}: ${k.lastDone} reported done, ${kept.size} stored`);
      const again = await cli(['propagate', proj], 45_000);
      expectTypedExit(again, 'propagate rerun', true, []);
      const res = again.stdout.split('\n').filter((l) => l.includes('"result"')).map((l) => JSON.parse(l) as Record<string, number>)[0];
      if (!res || res.alreadyDone !== kept.size || res.framesWritten !== FRAMES - kept.size) fail('lost', `rerun after kill ${k.how} did not resume: ${JSON.stringify(res)} with ${kept.size} kept`);
      const after = expectIntact(proj, kept);
      if (after.size !== FRAMES) fail('other', `${after.size} of ${FRAMES} rendered after the rerun`);
      return `propagate killed ${k.how}, ${kept.size} kept`;
    }
    if (op === 'export') {
      const proj = copyProject(f.rendered, caseDir);
      const renders = renderDigest(proj);
      const out = path.join(caseDir, 'out.mp4');
      const run = cliChild(['export', proj, out]);
      const k = await killAt(r, run, 3, [250, 600]);
      await new Promise((res) => setTimeout(res, 300));
      const left = orphans(caseDir);
      for (const pid of left) process.kill(pid, 'SIGKILL');
      if (left.length > 0) fail('other', `export killed ${k.how}: ${left.length} child process(es) kept running (ffmpeg must die with its parent)`);
      expectIntact(proj, renders, { afterKill: true });
      const existed = readdirSync(caseDir).includes('out.mp4');
      const again = await cli(['export', proj, out], 45_000);
      // A finished file from before the kill is protected; otherwise the rerun writes it.
      if (!(existed && again.code === 3)) expectTypedExit(again, 'export rerun', true, []);
      const frames = Number(execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', out]).toString().trim());
      if (frames !== FRAMES) fail('lost', `export killed ${k.how}: out.mp4 has ${frames} frames, not ${FRAMES}`);
      const rest = leftovers(caseDir);
      if (rest.length > 0) fail('lost', `left behind after the rerun: ${rest.join(', ')}`);
      return `export killed ${k.how}${existed ? ' (output already complete)' : ''}`;
    }
    const proj = copyProject(f.toTranslate, caseDir);
    const args = ['translate', proj, ...MODELS, '--prompt', 'fuzz', '--provider', 'cpu', '--cache', f.engineCache];
    const run = cliChild(args);
    const k = await killAt(r, run, 9, [600, 2500]);
    expectIntact(proj, null, { afterKill: true });
    const images = keyImages(proj);
    const again = await cli(args, 45_000);
    expectTypedExit(again, 'translate rerun', true, []);
    const res = again.stdout.split('\n').filter((l) => l.includes('"result"')).map((l) => JSON.parse(l) as { translated: number[]; upToDate: number[] })[0];
    const covered = [...(res?.translated ?? []), ...(res?.upToDate ?? [])].sort((a, b) => a - b);
    if (covered.join(',') !== KEYS.join(',')) fail('other', `translate rerun covered ${covered.join(',')}: ${JSON.stringify(res)}`);
    const now = keyImages(proj);
    for (const kf of res!.upToDate) if (images.get(kf) !== now.get(kf)) fail('lost', `key frame ${kf} was up to date yet changed`);
    if (images.size === KEYS.length && res!.translated.length > 0) fail('other', `every key frame was stored before the kill, yet the rerun redid ${res!.translated.join(',')}`);
    expectIntact(proj, null);
    return `translate killed ${k.how}: ${images.size} key frames kept, rerun translated ${res!.translated.join(',') || 'none'}`;
  },
};
