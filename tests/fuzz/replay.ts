// Reruns fuzz cases outside node:test and prints one JSON line per case:
//   node_modules/.bin/node tests/fuzz/replay.ts <class> [seed] [--cases N]
// With a seed: seeds seed..seed+N-1 (N defaults to 1); without: the class's default seeds.
// report.ts runs this once per class in a child, so a crash of one class cannot stop the report.
import { pathToFileURL } from 'node:url';
import { CLASSES, seedsFor, type ClassName } from './config.ts';
import { runClass } from './harness.ts';
import { CLASS_LIST } from './classes/index.ts';

export async function replay(argv: string[]): Promise<number> {
  const [name, seedArg] = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--cases');
  const casesAt = argv.indexOf('--cases');
  const cases = casesAt >= 0 ? Number(argv[casesAt + 1]) : undefined;
  if (!name || !Object.hasOwn(CLASSES, name)) {
    process.stderr.write(`usage: replay.ts <${Object.keys(CLASSES).join('|')}> [seed] [--cases N]\n`);
    return 2;
  }
  const cls = name as ClassName;
  const seeds = seedArg !== undefined ? seedsFor(cls, { FUZZ_SEED: seedArg }, cases) : seedsFor(cls, {}, cases);
  let failed = 0;
  await runClass(CLASS_LIST[cls], seeds, (r) => {
    if (r.failure) failed++;
    process.stdout.write(JSON.stringify(r) + '\n');
  });
  return failed > 0 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await replay(process.argv.slice(2));
  // A class may leave handles (a server socket the fuzz broke); the report waits on our exit.
  setTimeout(() => process.exit(), 500).unref();
}
