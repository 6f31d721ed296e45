// Real parts for the farm's tests: a redis-server on a free loopback port in a temp folder, worker
// processes spawned from the CLI, and tiny projects with key frames made with ffmpeg.
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeClip } from '../helpers/clips.ts';
import { runCli } from '../cli/run-cli.ts';
import { Project } from '../../src-main/project/index.ts';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueOf } from '../../src-main/farm/queue.ts';
import { redisOptionsFromUrl } from '../../src-main/farm/redis.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  proc: ChildProcess | null = null;
  readonly port: number;
  readonly dir: string;
  readonly persist: boolean;

  constructor(port: number, dir: string, persist: boolean) {
    this.port = port;
    this.dir = dir;
    this.persist = persist;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(dir: string, opts: { persist?: boolean } = {}): Promise<RedisServer> {
    await mkdir(dir, { recursive: true });
    const r = new RedisServer(await freePort(), dir, opts.persist === true);
    await r.restart();
    return r;
  }

  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      ...(this.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'])];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
      proc.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (/ready to accept connections/i.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${out}`));
      });
    });
  }

  /** A clean shutdown (SIGTERM): with persistence, everything acknowledged is kept. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    await gone;
    this.proc = null;
  }
}

export interface SpawnedWorker {
  name: string;
  proc: ChildProcess;
  log: () => string;
  /** Resolves when the worker says it takes jobs. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** `store` '' leaves --store out (a worker that reaches a served store only, through `extra`). */
export function spawnWorker(name: string, redisUrl: string, store: string, env: Record<string, string> = {}, extra: string[] = []): SpawnedWorker {
  const proc = spawn(process.execPath, [path.join(ROOT, 'src-main/cli/main.ts'), 'worker', '--redis', redisUrl, ...(store ? ['--store', store] : []), '--backend', 'cpu', '--name', name, ...extra], {
    cwd: ROOT,
    env: { ...process.env, RERENDER_FARM_LOCK_MS: '2000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const take = (c: Buffer) => {
    text += c.toString();
    if (text.includes('taking jobs')) onReady();
  };
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  return {
    name, proc, ready, log: () => text,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}

function stylise(clip: string, n: number, out: string, hue: number): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-vf', `select=eq(n\\,${n}),hue=h=${hue}:s=2`, '-frames:v', '1', out]);
}

async function cli(args: string[]): Promise<void> {
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`rerender ${args.join(' ')} failed (${r.code}):\n${r.stdout}${r.stderr}`);
}

/** A project on a generated clip with key frames that have images. */
export async function makeProject(dir: string, name: string, opts: { frames: number; keys: number[]; pattern: 'mandelbrot' | 'testsrc2'; hue: number }): Promise<string> {
  const clip = await makeClip(dir, { frames: opts.frames, width: 64, height: 48, fps: { num: 25, den: 1 }, pattern: opts.pattern });
  const proj = path.join(dir, `${name}.rrproj`);
  await cli(['init', clip, '-o', proj, '--size', '64']);
  await cli(['keyframes', proj, '--set', opts.keys.join(',')]);
  for (const k of opts.keys) {
    const png = path.join(dir, `${name}-k${k}.png`);
    stylise(clip, k, png, opts.hue + k * 7);
    await cli(['keyframe', proj, '--frame', String(k), '--import', png]);
  }
  return proj;
}

/** A copy of a (closed) project under a new name: a new project as far as the farm is concerned. */
export async function copyProject(src: string, dest: string): Promise<string> {
  await copyFile(src, dest);
  return dest;
}

export function renders(file: string): Map<number, { png: Buffer; paramsHash: string; runId: string }> {
  const p = Project.openReadOnly(file);
  try {
    const out = new Map<number, { png: Buffer; paramsHash: string; runId: string }>();
    for (const f of p.renderedFrames()) {
      const r = p.getRender(f)!;
      out.set(f, { png: r.image, paramsHash: r.paramsHash, runId: r.runId });
    }
    return out;
  } finally {
    p.close();
  }
}

export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A test's `skip`: without redis-server, outside CI (which installs it, .ci/run: there a missing one fails). */
export const redisSkip: string | false = !hasRedisServer() && !process.env.CI ? 'redis-server is not installed (apt-get install redis-server)' : false;

export interface FarmRedis {
  redis: RedisServer;
  queue: Queue;
  client: Redis;
  /** Closes the clients and stops the server. */
  stop(): Promise<void>;
}

/** A redis-server in `dir` with a queue and a plain client on it, as the farm's tests use them. */
export async function farmRedis(dir: string, opts: { persist?: boolean } = {}): Promise<FarmRedis> {
  const redis = await RedisServer.start(dir, opts);
  const options = redisOptionsFromUrl(redis.url).options;
  const queue = queueOf(options);
  queue.on('error', () => undefined);
  const client = new Redis(options);
  client.on('error', () => undefined);
  return {
    redis, queue, client,
    async stop() {
      await queue.close().catch(() => undefined);
      client.disconnect();
      await redis.stop();
    },
  };
}
