// Child process of crash.test.ts: opens a project and writes renders until killed (or, in 'clean'
// mode, writes `count` frames and closes). Prints `done <frame>` only after putRender/putRenders has
// returned, so every frame the parent saw reported must survive a SIGKILL.
// Usage: node crash-writer.ts <project> <round> kill|clean [count]
import { Project } from '../../src-main/project/index.ts';
import { CRASH_FRAME_COUNT, crashBytes } from './crash-bytes.ts';

const [file, roundArg, mode, countArg] = process.argv.slice(2);
if (!file || !roundArg || (mode !== 'kill' && mode !== 'clean')) {
  process.stderr.write('usage: crash-writer.ts <project> <round> kill|clean [count]\n');
  process.exit(2);
}
const round = Number(roundArg);
const limit = mode === 'clean' ? Number(countArg ?? '10') : CRASH_FRAME_COUNT;
const tag = { runId: `round-${round}`, paramsHash: `params-${round}` };

const project = Project.open(file);
const job = project.createJob({ kind: 'propagate', total: limit });
project.updateJob(job.id, { status: 'running' });
process.stdout.write(`job ${job.id}\nready\n`);

let frame = 0;
let step = 0;
while (frame < limit) {
  if (step++ % 4 === 3) {
    // Every fourth step a batch of up to three frames in one transaction.
    const frames = [frame, frame + 1, frame + 2].filter((f) => f < limit);
    project.putRenders(frames.map((f) => ({ frame: f, png: crashBytes(f, round), ...tag })));
    for (const f of frames) process.stdout.write(`done ${f}\n`);
    frame += frames.length;
  } else {
    project.putRender(frame, crashBytes(frame, round), tag);
    process.stdout.write(`done ${frame}\n`);
    frame += 1;
  }
  project.updateJob(job.id, { done: frame });
}
project.updateJob(job.id, { status: 'done' });
project.close();
