// Two writers on one project: of two concurrent `propagate` processes exactly one runs and the
// other is refused with exit 4 IN_USE; `rerender info` while another process holds the project
// (with a running job) reads it without touching that job's status.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { FuzzClass } from '../harness.ts';
import { rng } from '../generators/prng.ts';
import { baseFixture, copyProject, FRAMES, type BaseFixture } from '../fixtures.ts';
import { cli, cliChild, errorCodeOf, expectIntact, expectTypedExit, fail, ROOT, within } from '../support.ts';

/** A stand-in for the app: opens the project, starts a job, waits for a line on stdin, prints the job's status. */
const HOLDER = `
import { Project } from ${JSON.stringify(path.join(ROOT, 'src-main', 'project', 'index.ts'))};
const p = Project.open(process.argv[1]);
const job = p.createJob({ kind: 'propagate', total: 10, params: {}, device: null });
p.updateJob(job.id, { status: 'running' });
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  const status = p.getJob(job.id).status;
  p.close();
  process.stdout.write(status + '\\n');
});
`;

function holder(file: string): { ready: Promise<void>; finish(): Promise<string> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready\n')) resolve();
    });
    void closed.then(() => reject(new Error(`holder ended: ${err}`)));
  });
  return {
    ready,
    async finish() {
      child.stdin.end('go\n');
      await closed;
      return out.split('\n')[1] ?? `(no status; ${err.trim()})`;
    },
  };
}

export const writers: FuzzClass<BaseFixture> = {
  name: 'writers',
  setup: (dir) => baseFixture(dir),
  async run(f, seed, caseDir) {
    const r = rng(seed);
    if (seed % 2 === 1) return infoWhileHeld(f, caseDir);
    // Two propagations: the second starts once the first has begun, after a seeded extra delay.
    const proj = copyProject(f.keyed, caseDir);
    const a = cliChild(['propagate', proj]);
    await within(30_000, 'first propagate to start', a.until((ls) => ls.some((l) => l.type === 'progress')));
    await new Promise((res) => setTimeout(res, r.int(0, 200)));
    const b = cliChild(['propagate', proj]);
    const [ea, eb] = await within(45_000, 'both propagations', Promise.all([a.done, b.done]));
    const codes = [ea.code, eb.code];
    if (codes.includes(1)) fail('exit1', `propagate exits ${codes.join(', ')}: ${ea.stdout.slice(-300)} ${eb.stdout.slice(-300)}`);
    const refused = [ea, eb].filter((e) => e.code === 4 && errorCodeOf({ code: 4, stdout: e.stdout, stderr: e.stderr }) === 'IN_USE');
    if (refused.length !== 1 || !codes.includes(0)) fail('other', `two concurrent propagations exited ${codes.join(' and ')} (want one 0 and one 4 IN_USE)`);
    const after = expectIntact(proj, null);
    if (after.size !== FRAMES) fail('lost', `${after.size} of ${FRAMES} frames rendered after the winner finished`);
    return `propagate exits ${codes.join(', ')}`;
  },
};

/** `info` while another process holds the project with a running job. */
async function infoWhileHeld(f: BaseFixture, caseDir: string): Promise<string> {
  const held = copyProject(f.keyed, caseDir, 'held.rrproj');
  const h = holder(held);
  await within(15_000, 'holder to open', h.ready);
  const info = await cli(['info', held]);
  expectTypedExit(info, 'info on a held project', true, [4]);
  const status = await within(10_000, 'holder to finish', h.finish());
  if (status !== 'running') fail('other', `info (exit ${info.code}) changed the running job's status to '${status}'`);
  expectIntact(held, null);
  return `info exit ${info.code}, job ${status}`;
}
