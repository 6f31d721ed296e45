// `--precision auto|fp16|fp32` on the commands that run the engine: a bad value is a usage error
// naming the choices, every command's help lists it, and txt2img reports the float type the
// pipeline really computes in (the tiny fixture models, on the CPU).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { EXIT } from '../../src-main/cli/exit-codes.ts';
import { jsonLines, runCli } from './run-cli.ts';

const ENGINE = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
let dir = '';
let env: Record<string, string> = {};

before(async () => {
  dir = await makeTempDir('rerender-precision-');
  // Nothing from the user's own folders: the model is always given.
  env = { ...process.env, HOME: dir, RERENDER_MODELS_DIR: path.join(dir, 'models'), HF_HOME: path.join(dir, 'hf'), RERENDER_CACHE: path.join(dir, 'cache') } as Record<string, string>;
});
after(async () => removeDir(dir));

test('a bad --precision is a usage error that lists the choices', async () => {
  const cases: string[][] = [
    ['txt2img', '--prompt', 'a fox', '-o', path.join(dir, 'x.png')],
    ['img2img', '--image', path.join(dir, 'in.png'), '--prompt', 'a fox', '-o', path.join(dir, 'x.png')],
    ['translate', path.join(dir, 'none.rrproj')],
    ['run', path.join(dir, 'none.mp4'), '--prompt', 'a fox', '-o', path.join(dir, 'out.mp4')],
  ];
  for (const args of cases) {
    const r = await runCli([...args, '--precision', 'fp8', '--json'], { env, cwd: dir });
    assert.equal(r.code, EXIT.usage, `${args[0]}: ${r.stdout}`);
    const err = jsonLines(r.stdout).find((l) => l.type === 'error')!;
    assert.match(err.message as string, /--precision must be one of auto, fp16, fp32, got 'fp8'/, args[0]);
  }
});

test('the help of every engine command lists --precision', async () => {
  for (const name of ['txt2img', 'img2img', 'translate', 'run']) {
    const r = await runCli([name, '--help'], { env });
    assert.equal(r.code, EXIT.ok);
    assert.match(r.stdout, /--precision P +auto\|fp16\|fp32 \(default.*auto: fp16 where the GPU supports it, else fp32\)/, name);
  }
});

async function txt2img(...extra: string[]): Promise<Record<string, unknown>> {
  const r = await runCli([
    'txt2img', '--model', path.join(ENGINE, 'tiny-sd'), '--provider', 'cpu', '--width', '64', '--height', '64', '--steps', '2',
    '--prompt', 'a fox', '-o', path.join(dir, 'out.png'), '--json', ...extra,
  ], { env, cwd: dir });
  assert.equal(r.code, EXIT.ok, r.stdout + r.stderr);
  const lines = jsonLines(r.stdout);
  const info = lines.filter((l) => l.type === 'info').map((l) => l.message as string).join('\n');
  const result = lines.find((l) => l.type === 'result')!;
  // The human line and the result say the same.
  assert.match(info, new RegExp(`on cpu, ${result.floatType === 'float16' ? 'fp16' : 'fp32'}[ :]`));
  return result;
}

test('txt2img on the CPU computes in float32 with auto (no GPU) and fp32', async () => {
  assert.equal((await txt2img()).floatType, 'float32');
  assert.equal((await txt2img('--precision', 'fp32')).floatType, 'float32');
});

test('txt2img --precision fp16 computes in float16, even on the CPU', async () => {
  assert.equal((await txt2img('--precision', 'fp16')).floatType, 'float16');
});
