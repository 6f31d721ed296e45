// Child process of the lock tests: opens a project for writing (taking its lock), leaves a job
// 'running' as a propagate would, prints `ready <jobId>`, then holds the project until its stdin
// closes (then closes cleanly) or it is killed.
// Usage: node lock-holder.ts <project> <label>
import { Project } from '../../src-main/project/index.ts';

const [file, label] = process.argv.slice(2);
if (!file || !label) {
  process.stderr.write('usage: lock-holder.ts <project> <label>\n');
  process.exit(2);
}
const project = Project.open(file, { label });
const job = project.createJob({ kind: 'propagate', total: 10 });
project.updateJob(job.id, { status: 'running' });
process.stdout.write(`ready ${job.id}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  project.close();
  process.exit(0);
});
