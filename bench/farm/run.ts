// Render-farm benchmark: N shots (one small project each, cut from a real clip) propagated locally
// in one process, then on the farm with 1, 2 and 3 local worker processes against a local Redis,
// with the farm's overhead per job: queue latency, artifact transfer, and what is left of the
// difference to the local run. Checks the farm's renders are byte-identical to the local ones.
//   node bench/farm/run.ts [--clip ../shared/media/Megamind.avi] [--start 20] [--shots 6] [--frames 16]
//        [--every 5] [--size 128] [--workers 1,2,3] [--stages propagate|propagate,export|translate,propagate[,export]]
// With translate, the key frames are made by the tiny fixture models (tests/fixtures/engine, 2 steps)
// instead of imported: the translation job's farm overhead, not Stable Diffusion's speed.
// Needs redis-server on PATH. Without the clip, a lavfi mandelbrot stands in.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { main } from '../../src-main/cli/main.ts';
import { PassThrough } from 'node:stream';
import { Project } from '../../src-main/project/index.ts';
import { cancelKey, queueOf, submissionsKey, workersKey } from '../../src-main/farm/queue.ts';
import { redisOptionsFromUrl } from '../../src-main/farm/redis.ts';
import { RedisServer, spawnWorker } from '../../tests/farm/helpers.ts';
import type { SpawnedWorker } from '../../tests/farm/helpers.ts';
import { Redis } from 'ioredis';

const { values: a } = parseArgs({
  options: {
    clip: { type: 'string', default: '../shared/media/Megamind.avi' },
    start: { type: 'string', default: '20' },
    shots: { type: 'string', default: '6' },
    frames: { type: 'string', default: '16' },
    every: { type: 'string', default: '5' },
    size: { type: 'string', default: '128' },
    workers: { type: 'string', default: '1,2,3' },
    stages: { type: 'string', default: 'propagate' },
  },
});
const SHOTS = Number(a.shots);
const FRAMES = Number(a.frames);
const EVERY = Number(a.every);
const SIZE = Number(a.size);
const START = Number(a.start);
const WORKERS = a.workers.split(',').map(Number);
// With export, each shot's video too (at the source size), locally after its propagation.
const EXPORT = a.stages.split(',').includes('export');
const TRANSLATE = a.stages.split(',').includes('translate');
const ENGINE = path.resolve(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'engine');
const engineCache = path.join(os.tmpdir(), 'rerender-bench-farm-engine');

async function cli(args: string[]): Promise<string> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main(args, { streams: { stdout, stderr }, signal: new AbortController().signal });
  if (code !== 0) throw new Error(`rerender ${args.join(' ')} exited ${code}:\n${out}${err}`);
  return out;
}

// The cut's width is a multiple of 64: ffmpeg pads its decode buffers to that, and the key-frame
// import's pixel limit counts the padded width.
const CUT_H = Math.max(192, SIZE);
const CUT_W = Math.ceil((CUT_H * 4) / 3 / 64) * 64;
const tmp = execFileSync('mktemp', ['-d', path.join(os.tmpdir(), 'rerender-bench-farm-XXXX')]).toString().trim();
const ff = (args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
const useClip = existsSync(a.clip);
if (!useClip) console.error(`(${a.clip} not found: a lavfi mandelbrot stands in)`);

// One project per shot: consecutive pieces of the clip, key frames every EVERY frames and on the
// last, each key image a posterised hue shift of its frame.
const keys = [...new Set([...Array.from({ length: Math.ceil(FRAMES / EVERY) }, (_, i) => i * EVERY), FRAMES - 1])].filter((k) => k < FRAMES);
const templates: string[] = [];
for (let s = 0; s < SHOTS; s++) {
  const clip = path.join(tmp, `shot${s}.mkv`);
  const first = START + s * FRAMES;
  const input = useClip ? ['-i', a.clip] : ['-f', 'lavfi', '-i', `mandelbrot=size=320x240:rate=24:start_scale=${3 - s * 0.2}`];
  ff([...input, '-map', '0:v:0', '-an', '-vf', `select=between(n\\,${useClip ? first : 0}\\,${(useClip ? first : 0) + FRAMES - 1}),setpts=N/24/TB,scale=${CUT_W}:${CUT_H}`, '-frames:v', String(FRAMES), '-c:v', 'ffv1', clip]);
  const proj = path.join(tmp, `shot${s}.rrproj`);
  await cli(['init', clip, '-o', proj, '--size', String(SIZE)]);
  await cli(['keyframes', proj, '--set', keys.join(',')]);
  if (TRANSLATE) {
    const p = Project.open(proj);
    p.updateSettings({ steps: 2, prompt: `shot ${s}`, model: path.join(ENGINE, 'tiny-sd'), controlnetModel: path.join(ENGINE, 'tiny-controlnet') });
    p.close();
  }
  for (const k of TRANSLATE ? [] : keys) {
    const png = path.join(tmp, `shot${s}-k${k}.png`);
    ff(['-i', clip, '-vf', `select=eq(n\\,${k}),hue=h=${100 + 20 * s}:s=2,lutrgb=r='bitand(val\\,224)':g='bitand(val\\,224)':b='bitand(val\\,224)'`, '-frames:v', '1', png]);
    await cli(['keyframe', proj, '--frame', String(k), '--import', png]);
  }
  templates.push(proj);
}
const jobsPerShot = keys.length - 1 + (keys[0]! > 0 ? 1 : 0) + (keys.at(-1)! < FRAMES - 1 ? 1 : 0);

let copies = 0;
async function copies_(): Promise<string[]> {
  copies++;
  return Promise.all(templates.map(async (t, i) => {
    const dest = path.join(tmp, `run${copies}-shot${i}.rrproj`);
    await copyFile(t, dest);
    return dest;
  }));
}

function keyImagesOf(file: string): Map<number, Buffer> {
  const p = Project.openReadOnly(file);
  try {
    return new Map(p.listKeyframes(() => '').map((k) => [k.frame, p.getKeyframe(k.frame)!.image!]));
  } finally {
    p.close();
  }
}

function rendersOf(file: string): Map<number, Buffer> {
  const p = Project.openReadOnly(file);
  try {
    return new Map(p.renderedFrames().map((f) => [f, p.getRender(f)!.image]));
  } finally {
    p.close();
  }
}

// Local: one process, the shots one after another (what `rerender propagate` does today).
const local = await copies_();
let t0 = performance.now();
let localTranslateS = 0;
for (const p of local) {
  if (TRANSLATE) {
    const tt = performance.now();
    await cli(['translate', p, '--provider', 'cpu', '--cache', engineCache]);
    localTranslateS += (performance.now() - tt) / 1000;
  }
  await cli(['propagate', p]);
  if (EXPORT) await cli(['export', p, p.replace(/\.rrproj$/, '.mp4')]);
}
const localS = (performance.now() - t0) / 1000;
const reference = local.map(rendersOf);

const redis = await RedisServer.start(path.join(tmp, 'redis'));
const opts = redisOptionsFromUrl(redis.url).options;
const queue = queueOf(opts);
const client = new Redis(opts);
const store = path.join(tmp, 'store');
await mkdir(store, { recursive: true });

interface Row { translateS: number; translations: number; workers: number; wallS: number; submitS: number; watchS: number; jobs: number; jobS: number; pickupMs: number; fetchMs: number; storeMs: number; ingestMs: number; identical: boolean }
const rows: Row[] = [];
const running: SpawnedWorker[] = [];
try {
  for (const n of WORKERS) {
    await queue.obliterate({ force: true });
    await client.del(submissionsKey(), workersKey(), cancelKey());
    const projects = await copies_();
    // Workers start first (a farm's workers are up before work arrives); their start is not timed.
    const ws: SpawnedWorker[] = Array.from({ length: n }, (_, i) => spawnWorker(`bench${i + 1}`, redis.url, store, { RERENDER_FARM_LOCK_MS: '30000' },
      TRANSLATE ? ['--models', ENGINE, '--provider', 'cpu', '--cache', engineCache] : []));
    running.push(...ws);
    await Promise.all(ws.map((w) => w.ready));
    t0 = performance.now();
    await cli(['farm', 'submit', ...projects, '--redis', redis.url, '--store', store, '--stages', a.stages]);
    const submitS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const watched = await cli(['farm', 'watch', ...projects, '--redis', redis.url, '--store', store, '--poll-ms', '100', '--json']);
    const ingestMs = (watched.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; ingestMs?: number }).find((l) => l.type === 'result')?.ingestMs) ?? 0;
    const watchS = (performance.now() - t1) / 1000;
    const wallS = (performance.now() - t0) / 1000;
    await Promise.all(ws.map((w) => w.stop()));
    const done = (await queue.getJobs(['completed'])).filter((j) => j.name === 'propagate');
    const rv = done.map((j) => j.returnvalue as { ms: number; fetchMs: number; storeMs: number });
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
    const identical = projects.every((p, i) => {
      const got = rendersOf(p);
      const same = got.size === reference[i]!.size && [...reference[i]!].every(([f, png]) => got.get(f)?.equals(png));
      const keysSame = !TRANSLATE || [...keyImagesOf(local[i]!)].every(([f, png]) => keyImagesOf(p).get(f)?.equals(png));
      return same && keysSame && (!EXPORT || readFileSync(p.replace(/\.rrproj$/, '.mp4')).equals(readFileSync(local[i]!.replace(/\.rrproj$/, '.mp4'))));
    });
    const translateJobs = (await queue.getJobs(['completed'])).filter((j) => j.name === 'translate');
    const translations = translateJobs.map((j) => (j.returnvalue as { ms: number }).ms / 1000);
    rows.push({
      translateS: mean(translations), translations: translations.length,
      workers: n, wallS, submitS, watchS, jobs: done.length,
      jobS: mean(rv.map((r) => r.ms)) / 1000,
      // Queue latency: from queued to taken, for jobs taken by an idle worker (the first wave).
      // (With translation first, segments are queued while workers are busy: the translations' first wave counts.)
      pickupMs: Math.min(...(translateJobs.length > 0 ? translateJobs : done).map((j) => (j.processedOn ?? 0) - j.timestamp)),
      fetchMs: mean(rv.map((r) => r.fetchMs)),
      storeMs: mean(rv.map((r) => r.storeMs)),
      ingestMs: ingestMs / Math.max(1, done.length),
      identical,
    });
  }
} finally {
  // Also on a failure: no worker or Redis outlives the benchmark.
  await Promise.all(running.map((w) => w.stop()));
  await queue.close();
  client.disconnect();
  await redis.stop();
}

const jobs = SHOTS * jobsPerShot;
const f = (x: number, d = 2) => x.toFixed(d);
console.log(`\nbench:farm (${a.stages}): ${SHOTS} shots x ${FRAMES} frames at short side ${SIZE} (${useClip ? path.basename(a.clip) : 'lavfi mandelbrot'}), key frames ${keys.join(',')}: ${jobs} jobs; ${os.cpus().length} CPU threads (${os.cpus()[0]?.model.trim()})`);
console.log('\n| run | wall (s) | speed-up vs local | submit (s) | watch (s) | mean job on worker (s) | identical to local |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
console.log(`| local, 1 process | ${f(localS)} | 1.00 | - | - | - | - |`);
for (const r of rows) console.log(`| farm, ${r.workers} worker(s) | ${f(r.wallS)} | ${f(localS / r.wallS)} | ${f(r.submitS)} | ${f(r.watchS)} | ${f(r.jobS)} | ${r.identical ? 'yes' : 'NO'} |`);
const one = rows.find((r) => r.workers === 1);
if (TRANSLATE) {
  console.log(`\ntranslation (tiny models, 2 steps, ${keys.length} key frames a shot): local ${f(localTranslateS / SHOTS)} s a shot; on the farm ${rows.map((r) => `${r.workers} worker(s): ${r.translations} jobs, ${f(r.translateS)} s each on the worker`).join('; ')}`);
}
if (one) {
  const perJob = ((one.wallS - localS) / jobs) * 1000;
  const ownerMs = (one.submitS * 1000) / jobs + one.ingestMs;
  const workerS = one.jobS + one.pickupMs / 1000;
  console.log(`\nper job, farm (1 worker) minus local: ${f(perJob, 0)} ms; on the worker: queue pick-up ${f(one.pickupMs, 0)} ms, artifact fetch ${f(one.fetchMs, 1)} ms, artifact store ${f(one.storeMs, 1)} ms` +
    ` (of a ${f(one.jobS * 1000, 0)} ms job); on the owner: submit ${f((one.submitS * 1000) / jobs, 0)} ms + ingest ${f(one.ingestMs, 0)} ms = ${f(ownerMs, 0)} ms`);
  // The owner uploads and ingests one job at a time while the machines render: whichever is slower sets the pace.
  // (After a translation the owner's uploads happen inside `watch`, so the projection is made without it.)
  for (const m of TRANSLATE ? [] : [10, 100]) {
    const total = 100 * jobsPerShot;
    const est = Math.max((total * ownerMs) / 1000, Math.ceil(total / m) * workerS) + workerS;
    console.log(`projection: 100 shots like these (${total} jobs) on ${m} machines ≈ ${f(est, 0)} s ` +
      `(machines alone: ${f(Math.ceil(total / m) * workerS, 0)} s; owner alone: ${f((total * ownerMs) / 1000, 0)} s; local: ${f((localS / jobs) * total, 0)} s)`);
  }
}
