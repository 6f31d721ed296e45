// The editor at an artist's pace, measured in Chromium in browser mode against the real services
// host: thumbnail strip time, proxy build time and size, server-side frame times, click-to-picture
// latency with and without the proxy, playback rate against the source's, and how many of the
// positions a drag passes it shows. Prints one table against the goals of issue 14.
//   node bench/editor/run.ts [--media ../shared/media] [--cache DIR] [--only NAME]
// The 60 s 1080p clip (ffmpeg lavfi testsrc2, x264) is made once and kept in --cache.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import type { JobInfo, JobKind, ProjectSummary } from '../../src-main/api/contract.ts';
import { ensureRendererBuilt, openEditorSession, START_SAMPLING_SCRIPT, STOP_SAMPLING_SCRIPT, type EditorSession, type PlaybackSample } from '../../tests/e2e/support.ts';

const { values: args } = parseArgs({
  options: {
    media: { type: 'string', default: '../shared/media' },
    cache: { type: 'string', default: path.join(os.tmpdir(), 'rerender-bench-editor') },
    only: { type: 'string' },
    clicks: { type: 'string', default: '15' },
    /** Skip the measurements without the proxy (quicker). */
    quick: { type: 'boolean' },
  },
});
const CLICKS = Number(args.clicks);

interface Clip {
  name: string;
  file: string;
}

/** The 60 s 1080p clip, made once (about a minute on two cores) and reused. */
function hdClip(dir: string): Clip {
  const file = path.join(dir, 'testsrc2-1080p-60s.mp4');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    console.error('making the 60 s 1080p clip (once)...');
    const tmp = `${file}.tmp.mp4`;
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-frames:v', '1800',
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', tmp]);
    renameSync(tmp, file);
  }
  return { name: '1080p 60 s (testsrc2)', file };
}

const median = (xs: number[]): number => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
const dirBytes = (dir: string): number => readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile()).reduce((n, e) => n + statSync(path.join(e.parentPath, e.name)).size, 0);

/** Page-side: resolves with ms from the next mousedown to the viewer holding that frame's decoded, non-pending picture. */
const CLICK_LATENCY_SCRIPT = `new Promise((resolve) => {
  window.addEventListener('mousedown', (e) => {
    const t0 = e.timeStamp;
    const check = () => {
      const want = document.querySelector('[data-testid="frame-number"]')?.textContent;
      const img = document.querySelector('img[data-testid="viewer-image"]:not([data-pending])');
      if (img && img.getAttribute('data-frame') === want && img.complete && img.naturalWidth > 0) {
        obs.disconnect();
        const r = performance.getEntriesByType('resource').filter((e) => e.name.includes('frame/source/' + want + '.png')).at(-1);
        const m = performance.getEntriesByType('mark').filter((e) => e.name.includes('frame/source/' + want + '.png')).at(-1);
        resolve({ ms: performance.now() - t0, frame: Number(want), fetchStart: r ? r.startTime - t0 : null, responseEnd: r ? r.responseEnd - t0 : null, ready: m ? m.startTime - t0 : null });
        return true;
      }
      return false;
    };
    const obs = new MutationObserver(() => { check(); });
    obs.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    setTimeout(check, 0);
    setTimeout(() => { obs.disconnect(); resolve({ ms: Infinity, frame: -1 }); }, 20000);
  }, { once: true, capture: true });
})`;

interface Timeline {
  px: number;
  scroll: number;
  x: number;
  y: number;
  width: number;
}

async function timeline(page: Page): Promise<Timeline> {
  const tl = page.getByTestId('timeline');
  let prev = '';
  for (let i = 0; i < 50; i++) {
    const box = await tl.boundingBox();
    if (!box) throw new Error('no timeline');
    const g = { px: Number(await tl.getAttribute('data-px-per-frame')), scroll: Number(await tl.getAttribute('data-scroll-x')), x: box.x, y: box.y, width: box.width };
    if (JSON.stringify(g) === prev) return g;
    prev = JSON.stringify(g);
    await new Promise((r) => setTimeout(r, 100));
  }
  return JSON.parse(prev) as Timeline;
}

const frameX = (g: Timeline, f: number): number => g.x + (f + 0.5) * g.px - g.scroll;

/** Click latencies (ms) at `count` spread, not yet visited frames. */
async function clickLatencies(page: Page, frameCount: number, count: number, seed: number): Promise<number[]> {
  const g = await timeline(page);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    // Spread over the clip, shifted by the seed so runs visit fresh frames.
    const f = Math.floor(((i + 0.5 + seed * 0.37) % count) * (frameCount / count));
    const pending = page.evaluate(CLICK_LATENCY_SCRIPT) as Promise<{ ms: number; fetchStart: number | null; responseEnd: number | null; ready: number | null }>;
    await new Promise((r) => setTimeout(r, 30));
    await page.mouse.click(frameX(g, f), g.y + 50);
    const r = await pending;
    if (process.env.BENCH_VERBOSE) console.error(`click frame ${f}: picture ${r.ms.toFixed(0)} ms, request at ${r.fetchStart?.toFixed(0)} ms, response at ${r.responseEnd?.toFixed(0)} ms, decoded at ${r.ready?.toFixed(0)} ms`);
    out.push(r.ms);
    await new Promise((r) => setTimeout(r, 100));
  }
  return out;
}

/** Plays from frame 0 for `seconds` (or to the end): frames advanced per second, and stalls. */
async function playback(page: Page, frameCount: number, fps: number, seconds: number): Promise<{ rate: number; shown: number; stalls: number }> {
  await page.keyboard.press('Home');
  await new Promise((r) => setTimeout(r, 500));
  const stallsBefore = Number(await page.getByTestId('preview-stage').getAttribute('data-stalls'));
  await page.evaluate(START_SAMPLING_SCRIPT);
  const t0 = Date.now();
  await page.keyboard.press('Space');
  const end = t0 + Math.min(seconds, frameCount / fps + 1) * 1000;
  while (Date.now() < end && (await page.getByRole('button', { name: '❚❚ Pause' }).count()) > 0) await new Promise((r) => setTimeout(r, 100));
  const elapsed = (Date.now() - t0) / 1000;
  if ((await page.getByRole('button', { name: '❚❚ Pause' }).count()) > 0) await page.keyboard.press('Space');
  const samples = (await page.evaluate(STOP_SAMPLING_SCRIPT)) as PlaybackSample[];
  const last = Math.max(...samples.map((s) => s.shown));
  const shown = new Set(samples.filter((s) => s.image === s.shown && !s.pending).map((s) => s.shown)).size;
  const stalls = Number(await page.getByTestId('preview-stage').getAttribute('data-stalls')) - stallsBefore;
  return { rate: last / elapsed, shown, stalls };
}

/** A drag across `positions` frames, one mouse move every `stepMs`: % of the positions passed whose picture showed. */
async function dragCoverage(page: Page, frameCount: number, positions: number, stepMs: number): Promise<{ passed: number; shown: number }> {
  const g = await timeline(page);
  const span = Math.min(positions, frameCount - 2);
  const first = Math.floor((frameCount - span) / 3);
  const y = g.y + 50;
  await page.mouse.move(frameX(g, first), y);
  await page.evaluate(START_SAMPLING_SCRIPT);
  await page.mouse.down();
  for (let k = 1; k <= span; k++) {
    const t = Date.now();
    await page.mouse.move(frameX(g, first + k), y);
    const left = stepMs - (Date.now() - t);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
  }
  await page.mouse.up();
  await new Promise((r) => setTimeout(r, 300));
  const samples = (await page.evaluate(STOP_SAMPLING_SCRIPT)) as PlaybackSample[];
  const passed = new Set(samples.map((s) => s.shown).filter((f) => f > first));
  const shown = new Set(samples.map((s) => s.image).filter((f) => passed.has(f)));
  return { passed: passed.size, shown: shown.size };
}

/** Server-side time (ms) of source-frame requests, straight through the host (no HTTP, no browser). */
async function serverTimes(session: EditorSession, frames: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const f of frames) {
    const t = performance.now();
    const r = await session.host.media(`frame/source/${f}.png`, {});
    if (r.status !== 200) throw new Error(`frame ${f}: HTTP ${r.status}`);
    out.push(performance.now() - t);
  }
  return out;
}

interface Row {
  clip: string;
  what: string;
  goal: string;
  value: string;
  ok: boolean | null;
}

async function benchClip(clip: Clip, work: string): Promise<Row[]> {
  const rows: Row[] = [];
  const add = (what: string, goal: string, value: string, ok: boolean | null) => rows.push({ clip: clip.name, what, goal, value, ok });
  const dir = mkdtempSync(path.join(work, 'clip-'));
  const session = await openEditorSession({ dataDir: path.join(dir, 'data'), profileDir: path.join(dir, 'profile') });
  const { host, page } = session;
  const times = new Map<string, { start: number; end: number | null; job: JobInfo }>();
  host.api.on('job', (j) => {
    const t = times.get(j.id) ?? { start: performance.now(), end: null, job: j };
    t.job = j;
    if (j.status !== 'running' && j.status !== 'queued' && t.end === null) t.end = performance.now();
    times.set(j.id, t);
  });
  /** The newest job of `kind` not among `seen`. */
  const jobOf = (kind: JobKind, seen: ReadonlySet<string> = new Set()) => [...times.values()].filter((t) => t.job.kind === kind && !seen.has(t.job.id)).at(-1);
  const waitJob = async (kind: JobKind, timeoutS = 600, seen: ReadonlySet<string> = new Set()) => {
    const end = Date.now() + timeoutS * 1000;
    for (;;) {
      const t = jobOf(kind, seen);
      if (t?.end !== null && t?.end !== undefined) return t;
      if (Date.now() > end) throw new Error(`${kind} did not finish`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await page.goto(session.server.url);
    const projectPath = path.join(dir, 'bench.rrproj');
    const p: ProjectSummary = await host.api.createProject({ videoPath: clip.file, projectPath, shortSide: 512 });
    await page.getByTestId('frame-number').waitFor({ timeout: 60_000 });
    const n = p.source.frameCount;
    const fps = p.source.fps.num / p.source.fps.den;
    const proxyRoot = `${projectPath}.cache/proxy`;

    // The strip comes first (the proxy waits for it). Then the proxy job is stopped at once and
    // its folder removed, to measure the editor without it.
    const strip = await waitJob('thumbnails');
    add('thumbnail strip', clip.name.startsWith('1080p 60 s') ? '≤ 15 s' : '-', `${((strip.end! - strip.start) / 1000).toFixed(1)} s`,
      clip.name.startsWith('1080p 60 s') ? strip.end! - strip.start <= 15_000 : null);
    const spread = (k: number, seed: number) => Array.from({ length: k }, (_, i) => Math.floor(((i + seed) * n) / (k + 1)) % n);
    let direct: number[] = [];
    let clicksDirect: number[] = [];
    let playDirect = { rate: NaN, shown: 0, stalls: 0 };
    let seen = new Set<string>();
    if (!args.quick) {
    const started = Date.now();
    while (!jobOf('proxy') && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 10));
    const proxyJob = jobOf('proxy');
    if (proxyJob) await host.api.cancelJob(proxyJob.job.id);
    rmSync(proxyRoot, { recursive: true, force: true });
    await host.api.closeProject();
    const before = new Set(times.keys());
    await host.api.openProject(projectPath); // reopened: a new proxy job starts...
    const waitStart = Date.now();
    while (!jobOf('proxy', before) && Date.now() - waitStart < 10_000) await new Promise((r) => setTimeout(r, 5));
    const again = jobOf('proxy', before);
    if (again && again.end === null) await host.api.cancelJob(again.job.id); // ...and is stopped too
    rmSync(proxyRoot, { recursive: true, force: true });
    await page.reload();
    await page.getByTestId('frame-number').waitFor({ timeout: 60_000 });

    direct = await serverTimes(session, spread(5, 0.5));
    clicksDirect = await clickLatencies(page, n, Math.min(8, CLICKS), 0);
    playDirect = await playback(page, n, fps, 5);

    // The proxy, built from nothing (reopening starts it).
    await host.api.closeProject();
    seen = new Set(times.keys());
    await host.api.openProject(projectPath);
    await page.reload();
    await page.getByTestId('frame-number').waitFor({ timeout: 60_000 });
    }
    const proxy = await waitJob('proxy', 1200, seen);
    if (proxy.job.status !== 'done') throw new Error(`the proxy job ended ${proxy.job.status}: ${proxy.job.error}`);
    const buildS = (proxy.end! - proxy.start) / 1000;
    const bytes = dirBytes(proxyRoot);
    const minutes = n / fps / 60;
    add('proxy build', '-', `${buildS.toFixed(1)} s (${(n / buildS).toFixed(0)} frames/s)`, null);
    add('proxy size', 'cheap on disk', `${(bytes / 1e6).toFixed(1)} MB = ${(bytes / 1e6 / minutes).toFixed(0)} MB/min, ${(bytes / n / 1024).toFixed(0)} KiB/frame`, null);

    const fromProxy = await serverTimes(session, spread(30, 0.25));
    if (!args.quick) add('server: frame (direct decode)', '-', `median ${median(direct).toFixed(0)} ms`, null);
    add('server: frame (proxy slice)', '≪ 50 ms', `median ${median(fromProxy).toFixed(1)} ms, p95 ${quantile(fromProxy, 0.95).toFixed(1)} ms`, quantile(fromProxy, 0.95) < 50);
    await page.reload();
    await page.getByTestId('frame-number').waitFor({ timeout: 60_000 });
    const clicksProxy = await clickLatencies(page, n, CLICKS, 0.5);
    if (!args.quick) add('click → picture, no proxy', '-', `median ${median(clicksDirect).toFixed(0)} ms, p95 ${quantile(clicksDirect, 0.95).toFixed(0)} ms`, null);
    add('click → picture, proxy', '≤ 50 ms', `median ${median(clicksProxy).toFixed(0)} ms, p95 ${quantile(clicksProxy, 0.95).toFixed(0)} ms`, quantile(clicksProxy, 0.95) <= 50);
    const playProxy = await playback(page, n, fps, 8);
    if (!args.quick) add('playback, no proxy', `${fps.toFixed(2)} fps`, `${playDirect.rate.toFixed(1)} fps, ${playDirect.stalls} stall(s)`, null);
    add('playback, proxy', `${fps.toFixed(2)} fps`, `${playProxy.rate.toFixed(1)} fps, ${playProxy.stalls} stall(s)`, playProxy.rate >= fps * 0.97);
    for (const [label, step] of [['30 positions/s', 33], ['60 positions/s', 17]] as const) {
      const d = await dragCoverage(page, n, 40, step);
      const pct = (100 * d.shown) / Math.max(1, d.passed);
      add(`drag coverage, ${label}`, '≥ 80%', `${pct.toFixed(0)}% (${d.shown}/${d.passed})`, pct >= 80);
    }
  } finally {
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

ensureRendererBuilt();
const work = mkdtempSync(path.join(os.tmpdir(), 'bench-editor-'));
const clips: Clip[] = [hdClip(args.cache)];
for (const name of ['Megamind.avi', 'vtest.avi']) {
  const file = path.resolve(args.media, name);
  if (existsSync(file)) clips.push({ name, file });
}
const rows: Row[] = [];
try {
  for (const clip of clips) {
    if (args.only && !clip.name.includes(args.only)) continue;
    console.error(`${clip.name}...`);
    rows.push(...(await benchClip(clip, work)));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`\nbench:editor (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'cpu'}; Chromium headless, browser mode, working size 512)\n`);
console.log('| clip | measure | goal | measured | |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.clip} | ${r.what} | ${r.goal} | ${r.value} | ${r.ok === null ? '' : r.ok ? 'ok' : 'MISSED'} |`);
