// `rerender worker`: a headless farm worker, one process per GPU. It runs until stopped (Ctrl+C,
// SIGTERM); a running job is then handed back to the queue for another worker.
import path from 'node:path';
import os from 'node:os';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { intOption, parse } from './args.ts';
import { BACKENDS } from '../../propagate/choices.ts';
import type { BackendSetting } from '../../propagate/choices.ts';
import { parsePathMapping } from '../../farm/path-map.ts';
import { checkRedis, redisOptionsFromUrl } from '../../farm/redis.ts';
import { startWorker } from '../../farm/worker.ts';
import { validToken } from '../../farm/http-store.ts';
import { resolveModelsDir } from '../../engine/weights/model-roots.ts';
import type { ProviderSetting } from '../../engine/runtime/providers.ts';

const PROVIDERS: readonly string[] = ['auto', 'cuda', 'webgpu', 'cpu'];

export const workerCommand: Command = {
  name: 'worker',
  summary: 'a render farm worker: takes jobs from Redis until stopped (see `rerender farm`)',
  usage: `Usage: rerender worker --redis URL (--store DIR | --store-url URL --token T)… [--map FROM=TO …] [--concurrency 1] [--name N] [--backend auto|cpu|webgpu] [--models DIR] [--provider auto|cuda|webgpu|cpu]

Takes jobs submitted with \`rerender farm submit\` (key-frame translation, propagation) until
stopped. Inputs and results go through the artifact store; the worker reads and writes only under
its --store folders. Run one worker per GPU (CUDA_VISIBLE_DEVICES picks a CUDA device).
  --redis URL        redis://[user:password@]host[:port][/db] or rediss://… (TLS); default $RERENDER_REDIS_URL
  --store DIR        an artifact folder this worker may use (repeatable)
  --store-url URL    an artifact store an owner serves (\`farm watch --serve-port\`) that this worker may use (repeatable)
  --token T          that store's token (default $RERENDER_FARM_TOKEN); sent to no other URL
  --map FROM=TO      the submitter's path FROM is TO on this machine (repeatable), e.g. --map /mnt/farm=/Volumes/farm
  --concurrency N    jobs at once (default 1: one process per GPU)
  --name N           shown by \`rerender farm status\` (default host-pid)
  --backend B        where synthesis runs: auto (a hardware GPU, else the CPU), cpu, webgpu
  --models DIR       the models key-frame translation may use, found by content (any file name);
                     default $RERENDER_MODELS_DIR, else ~/.rerender-studio/models. A job naming a
                     model not there fails with a message saying which.
  --provider P       where translation runs: auto (CUDA, then WebGPU, then the CPU), cuda, webgpu, cpu
  --cache DIR        compiled-model cache, kept between jobs (default ~/.rerender-studio/cache/engine)`,
  async run(ctx, argv) {
    const { values } = parse(argv, {
      redis: { type: 'string' }, store: { type: 'string', multiple: true }, map: { type: 'string', multiple: true },
      'store-url': { type: 'string', multiple: true }, token: { type: 'string' },
      concurrency: { type: 'string' }, name: { type: 'string' }, backend: { type: 'string' },
      models: { type: 'string' }, provider: { type: 'string' }, cache: { type: 'string' },
    }, 0);
    const url = values.redis ?? ctx.env.RERENDER_REDIS_URL;
    if (!url) throw new UsageError('--redis URL is needed (or set RERENDER_REDIS_URL)');
    const roots = (values.store ?? []).map((s) => path.resolve(ctx.cwd, s));
    const urls = values['store-url'] ?? [];
    for (const u of urls) {
      if (!/^https?:\/\/[^/?#@]+(\/[^?#]*)?$/i.test(u)) throw new UsageError(`--store-url needs a plain http(s)://host:port URL, got '${u}'`);
    }
    if (roots.length === 0 && urls.length === 0) throw new UsageError('--store DIR (a shared artifact folder) or --store-url URL (one an owner serves) is needed');
    const token = values.token ?? ctx.env.RERENDER_FARM_TOKEN;
    if (urls.length > 0 && (token === undefined || !validToken(token))) throw new UsageError('--store-url needs the owner\'s artifact token: --token T or RERENDER_FARM_TOKEN (22 or more letters, digits, - or _)');
    const concurrency = intOption(values.concurrency, 'concurrency', 1) ?? 1;
    if (concurrency > 64) throw new UsageError(`--concurrency is at most 64, got ${concurrency}`);
    const backend = values.backend ?? 'auto';
    if (!(BACKENDS as readonly string[]).includes(backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got '${backend}'`);
    if (values.name !== undefined && !/^[\w.@-]{1,64}$/.test(values.name)) throw new UsageError(`--name may hold letters, digits and . _ - @ (64 at most), got '${values.name}'`);
    const maps = (values.map ?? []).map(parsePathMapping);
    const provider = values.provider ?? 'auto';
    if (!PROVIDERS.includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}, got '${provider}'`);
    const modelsDir = resolveModelsDir(ctx.env, { flag: values.models, cwd: ctx.cwd, warn: (m) => ctx.out.warn(m) });
    const target = redisOptionsFromUrl(url);
    await checkRedis(target);
    const w = await startWorker({
      redis: target.options, roots, maps, concurrency, urls, ...(token !== undefined ? { token } : {}), backend: backend as BackendSetting, env: ctx.env,
      modelsDir, provider: provider as ProviderSetting, ...(values.cache ? { cacheDir: path.resolve(ctx.cwd, values.cache) } : {}),
      name: values.name ?? `${os.hostname()}-${process.pid}`,
      onLog: (m) => ctx.out.info(m),
      onError: (m) => ctx.out.warn(m),
    });
    ctx.out.info(`connected to ${target.display}; stop with Ctrl+C`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await w.close();
    ctx.out.result({ name: w.name, device: w.device }, `worker ${w.name} stopped`);
  },
};
