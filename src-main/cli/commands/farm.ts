// `rerender farm submit|status|watch|cancel`: the owner's side of the render farm (BullMQ on
// Redis). The project file stays here, its single writer; workers (`rerender worker`) get inputs
// and return renders through the artifact store. See docs/farm.md.
import path from 'node:path';
import type { Command, CliContext } from '../command.ts';
import { UsageError } from '../command.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { tools } from './project-io.ts';
import { FolderArtifactStore } from '../../farm/artifacts.ts';
import { cancelFarm } from '../../farm/cancel.ts';
import { projectKeyOf } from '../../farm/project-key.ts';
import { checkRedis, redisOptionsFromUrl } from '../../farm/redis.ts';
import type { RedisTarget } from '../../farm/redis.ts';
import { farmStatus } from '../../farm/status.ts';
import type { FarmStatus } from '../../farm/status.ts';
import { submitProject } from '../../farm/submit.ts';
import type { SubmitSummary } from '../../farm/submit.ts';
import { watchProjects } from '../../farm/watch.ts';
import { FarmError } from '../../farm/errors.ts';
import { generateToken, validToken } from '../../farm/http-store.ts';
import { orderStages } from '../../farm/stages.ts';
import type { FarmStage } from '../../farm/stages.ts';

const USAGE = `Usage: rerender farm <submit|status|watch|cancel> … --redis URL

  rerender farm submit P1.rrproj [P2.rrproj …] --redis URL --store DIR [--serve URL] [--stages translate,propagate,export] [--out DIR]
      Queues each project's work after putting the inputs the workers need in the artifact store
      DIR, and returns at once. --stages (default propagate): translate makes the key frames, one
      chain per project on one worker; propagate renders every frame, one job per segment between
      key frames; export makes the video (DIR/<project>.mp4 with --out, else beside the project).
      The stages after a translation are queued by \`farm watch\` once its key frames are in.
      Work already done in the project, or finished or queued on the farm, is not queued again.
      --serve URL: workers reach DIR over HTTP at URL (served by \`farm watch --serve-port\`).
  rerender farm status --redis URL [--json]
      Per shot: segments done/total; per worker: device, current job, last heartbeat; an ETA.
  rerender farm watch P1.rrproj [P2.rrproj …] --redis URL --store DIR [--serve-port N [--serve-host H] [--token T]]
      The owner: stores each finished segment's renders in its project as they arrive, shows
      progress, and ends when all are in (exit 1 when some failed or were cancelled).
      --serve-port serves DIR over HTTP meanwhile, for workers with no shared disk; they need
      the token (--token or RERENDER_FARM_TOKEN; printed once when not given).
  rerender farm cancel --redis URL [P.rrproj …]
      Cancels the queued and running segments (of the given projects, or all). Finished ones are
      kept: a later submit queues only what is left.

  --redis URL   redis://[user:password@]host[:port][/db], or rediss://… for TLS
                (default: $RERENDER_REDIS_URL)
  --store DIR   the shared artifact folder, as this machine sees it (workers map it with --map)`;

/** Options and any number of positionals (projects); mistakes become UsageErrors. */
function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

function target(ctx: CliContext, url: string | undefined): RedisTarget {
  const u = url ?? ctx.env.RERENDER_REDIS_URL;
  if (!u) throw new UsageError('--redis URL is needed (or set RERENDER_REDIS_URL)');
  return redisOptionsFromUrl(u);
}

function storeDir(ctx: CliContext, dir: string | undefined): string {
  if (!dir) throw new UsageError('--store DIR is needed: the artifact folder the workers share');
  return path.resolve(ctx.cwd, dir);
}

function serveUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`--serve needs the URL workers reach the owner's store at (http://host:port), got '${v}'`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.search || u.hash) {
    throw new UsageError(`--serve needs a plain http(s)://host:port URL, got '${v}'`);
  }
  return u.toString().replace(/\/+$/, '');
}

function stagesOption(v: string | undefined): FarmStage[] {
  try {
    return orderStages((v ?? 'propagate').split(',').map((s) => s.trim()).filter((s) => s !== ''));
  } catch (e) {
    throw new UsageError(`--stages: ${(e as Error).message}`);
  }
}

async function submit(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { redis: { type: 'string' }, store: { type: 'string' }, stages: { type: 'string' }, serve: { type: 'string' }, out: { type: 'string' } });
  if (positionals.length === 0) throw new UsageError('farm submit needs at least one project');
  const stages = stagesOption(values.stages);
  if (values.out !== undefined && !stages.includes('export')) throw new UsageError('--out goes with --stages …,export');
  const outDir = values.out === undefined ? null : path.resolve(ctx.cwd, values.out);
  const t = target(ctx, values.redis);
  const store = new FolderArtifactStore(storeDir(ctx, values.store));
  const storeUrl = values.serve === undefined ? undefined : serveUrl(values.serve);
  await checkRedis(t);
  const mediaTools = await tools(ctx);
  const results: SubmitSummary[] = [];
  for (const p of positionals) {
    const file = path.resolve(ctx.cwd, p);
    const exportTo = stages.includes('export') ? { outPath: outDir ? path.join(outDir, `${path.basename(file).replace(/\.rrproj$/i, '')}.mp4`) : file.replace(/(\.rrproj)?$/i, '.mp4') } : undefined;
    const r = await submitProject(file, { redis: t.options, store, ...(storeUrl ? { storeUrl } : {}), tools: mediaTools, signal: ctx.signal, stages, ...(exportTo ? { exportTo } : {}) });
    results.push(r);
    ctx.out.info(r.translating > 0
      ? `${p}: ${r.translating} key frame(s) to translate ${r.queued > 0 ? 'queued' : 'already on the farm'}; then ${r.next.join(', ') || 'nothing'} (queued by \`farm watch\`)`
      : `${p}: ${r.queued} job(s) queued (${r.framesQueued} frames), ${r.onFarm} already on the farm, ${r.alreadyDone} already rendered`);
  }
  const queued = results.reduce((n, r) => n + r.queued, 0);
  ctx.out.result({ projects: results }, `queued ${queued} segment(s) from ${results.length} project(s) on ${t.display}; run \`rerender farm watch\` to store the results`);
}

function ago(s: number): string {
  return s < 90 ? `${Math.round(s)} s ago` : `${Math.round(s / 60)} min ago`;
}

function describe(st: FarmStatus): string {
  const lines: string[] = [];
  for (const p of st.projects) {
    lines.push(`${p.name} (${p.path})`);
    if (p.translate) {
      const t = p.translate;
      lines.push(`  translation: ${t.done ?? 0}/${t.total ?? 0} key frames, ${t.state}${t.worker && t.state === 'active' ? ` on ${t.worker}` : ''}${p.next.length > 0 ? `; then ${p.next.join(', ')}` : ''}`);
    }
    if (p.shots.length === 0 && !p.translate) lines.push('  nothing left to render');
    for (const s of p.shots) {
      lines.push(`  shot ${s.index} (frames ${s.first}-${s.last}): ${s.done}/${s.segments} segments, ${s.framesDone}/${s.frames} frames` +
        (s.active > 0 ? `, ${s.active} running` : '') + (s.failed > 0 ? `, ${s.failed} failed or cancelled` : ''));
    }
  }
  if (st.projects.length === 0) lines.push('nothing submitted');
  lines.push(`workers (${st.workers.filter((w) => w.alive).length} alive):`);
  for (const w of st.workers) {
    const job = w.current.length > 0 ? w.current.map((c) => `${c.project} frames ${c.frames}`).join('; ') : 'idle';
    lines.push(`  ${w.name} on ${w.device}: ${job}; ${w.done} done; last heartbeat ${ago(w.secondsSinceHeartbeat)}${w.alive ? '' : ' (gone?)'}`);
  }
  if (st.etaSeconds !== null) lines.push(`ETA: ${st.etaSeconds === 0 ? 'done' : `${Math.ceil(st.etaSeconds)} s`}`);
  return lines.join('\n');
}

async function status(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { redis: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError('farm status takes no projects: it shows all that were submitted');
  const t = target(ctx, values.redis);
  await checkRedis(t);
  const st = await farmStatus(t.options);
  ctx.out.result({ ...st }, describe(st));
}

async function watch(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    redis: { type: 'string' }, store: { type: 'string' }, 'poll-ms': { type: 'string' },
    'serve-port': { type: 'string' }, 'serve-host': { type: 'string' }, token: { type: 'string' },
  });
  if (positionals.length === 0) throw new UsageError('farm watch needs the projects it owns');
  const t = target(ctx, values.redis);
  const store = storeDir(ctx, values.store);
  const pollMs = values['poll-ms'] === undefined ? undefined : Number(values['poll-ms']);
  if (pollMs !== undefined && (!Number.isInteger(pollMs) || pollMs < 50)) throw new UsageError(`--poll-ms needs a whole number ≥ 50, got '${values['poll-ms']}'`);
  let serve: { port: number; host?: string; token: string } | undefined;
  if (values['serve-port'] !== undefined) {
    const port = Number(values['serve-port']);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--serve-port needs a port number, got '${values['serve-port']}'`);
    const given = values.token ?? ctx.env.RERENDER_FARM_TOKEN;
    if (given !== undefined && !validToken(given)) throw new UsageError('--token must be at least 22 letters, digits, - or _');
    const token = given ?? generateToken();
    // Shown once, as browser mode shows its token: the workers need it.
    if (given === undefined) ctx.out.info(`artifact store token (give it to the workers as --token or RERENDER_FARM_TOKEN): ${token}`);
    serve = { port, token, ...(values['serve-host'] ? { host: values['serve-host'] } : {}) };
  } else if (values.token !== undefined || values['serve-host'] !== undefined) {
    throw new UsageError('--token and --serve-host go with --serve-port');
  }
  await checkRedis(t);
  const r = await watchProjects(positionals.map((p) => path.resolve(ctx.cwd, p)), {
    redis: t.options, store, tools: await tools(ctx), signal: ctx.signal, ...(pollMs ? { pollMs } : {}), ...(serve ? { serve } : {}),
    onProgress: (p) => ctx.out.progress(p.stage === 'translate'
      ? { stage: 'farm translate', done: p.keyframesDone, total: p.keyframesTotal, etaSeconds: p.etaSeconds }
      : { stage: `farm ${p.stage}`, done: p.framesDone, total: p.framesTotal, etaSeconds: p.etaSeconds }),
    onInfo: (m) => ctx.out.info(m),
  });
  if (r.failed.length > 0) {
    throw new FarmError('JOB_FAILED', `${r.failed.length} job(s) did not finish (${r.failed.map((f) => `${f.project}: ${f.reason}`).join('; ')}); ${r.framesWritten} frame(s) were stored. Submit again to resume.`);
  }
  ctx.out.result({ keyframesWritten: r.keyframesWritten, framesWritten: r.framesWritten, segments: r.segments, stale: r.stale, ingestMs: Math.round(r.ingestMs), exported: r.exported },
    `stored ${r.keyframesWritten > 0 ? `${r.keyframesWritten} key frame(s) and ` : ''}${r.framesWritten} frame(s) from ${r.segments} job(s)` +
    r.exported.map((e) => `; exported ${e.out}`).join(''));
}

async function cancel(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { redis: { type: 'string' } });
  const t = target(ctx, values.redis);
  await checkRedis(t);
  const keys = positionals.length > 0 ? positionals.map((p) => projectKeyOf(path.resolve(ctx.cwd, p))) : undefined;
  const r = await cancelFarm(t.options, keys);
  ctx.out.result({ ...r }, `removed ${r.removed} queued segment(s), stopping ${r.stopping} running; ${r.finished} finished or failed kept`);
}

const SUB: Record<string, (ctx: CliContext, argv: string[]) => Promise<void>> = { submit, status, watch, cancel };

export const farmCommand: Command = {
  name: 'farm',
  summary: 'render on a farm of `rerender worker`s: submit, status, watch, cancel (BullMQ on Redis)',
  usage: USAGE,
  async run(ctx, argv) {
    const [sub, ...rest] = argv;
    const fn = sub === undefined ? undefined : SUB[sub];
    if (!fn) throw new UsageError(`farm needs one of ${Object.keys(SUB).join(', ')}${sub ? `, got '${sub}'` : ''}`);
    await fn(ctx, rest);
  },
};
