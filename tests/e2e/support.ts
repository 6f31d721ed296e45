// Helpers for the browser end-to-end tests: clips made with ffmpeg, frames decoded
// independently of the app, the renderer build, Chromium, HTTP reads of media routes, and each
// file's session on a test clip (clipSession).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import { createApiHost, type ApiHost } from '../../src-main/api/host.ts';
import { startServer, type RunningServer } from '../../src-main/serve/server.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const STATIC_DIR = path.join(ROOT, 'dist', 'renderer');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/renderer unless it is newer than every source it is built from. */
export function ensureRendererBuilt(): void {
  const index = path.join(STATIC_DIR, 'index.html');
  const sources = Math.max(
    newestMtime(path.join(ROOT, 'src-renderer')),
    statSync(path.join(ROOT, 'src-main', 'api', 'contract.ts')).mtimeMs,
    statSync(path.join(ROOT, 'src-main', 'serve', 'wire.ts')).mtimeMs,
    statSync(path.join(ROOT, 'vite.config.ts')).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs > sources) return;
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}

/** A test clip: testsrc2 video at `rate` fps plus a sine audio track. */
export function makeClip(out: string, opts: { width: number; height: number; rate: number; frames: number }): void {
  const seconds = Math.ceil(opts.frames / opts.rate) + 1;
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${opts.width}x${opts.height}:rate=${opts.rate}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-frames:v', String(opts.frames), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '12', '-c:a', 'aac', '-shortest', out,
  ]);
}

/** RGB bytes of frame `n` decoded by ffmpeg on its own, scaled to width × height. */
export function decodeFrameRgb(video: string, n: number, width: number, height: number): Buffer {
  return execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-i', video,
    '-vf', `select=eq(n\\,${n}),scale=${width}:${height}:flags=bicubic`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-',
  ], { maxBuffer: 64 * 1024 * 1024 });
}

/** A PNG of frame `n`, colour-inverted, at width × height: an "edited" key-frame image. */
export function makeEditedPng(video: string, n: number, width: number, height: number, out: string): void {
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-i', video,
    '-vf', `select=eq(n\\,${n}),scale=${width}:${height},negate`, '-frames:v', '1', out,
  ]);
}

export interface Probe {
  frames: number;
  rate: string;
  width: number;
  height: number;
  audio: boolean;
}

export function probe(file: string): Probe {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', file]).toString();
  const streams = (JSON.parse(out) as { streams: Array<Record<string, unknown>> }).streams;
  const v = streams.find((s) => s.codec_type === 'video');
  if (!v) throw new Error(`${file} has no video stream`);
  return {
    frames: Number(v.nb_read_frames),
    rate: String(v.r_frame_rate),
    width: Number(v.width),
    height: Number(v.height),
    audio: streams.some((s) => s.codec_type === 'audio'),
  };
}

export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`size mismatch: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** host:port → the access token of the server there (so httpGet can send it as a Bearer header). */
const tokens = new Map<string, string>();

export function httpGet(url: string): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  const token = tokens.get(new URL(url).host);
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      })
      .on('error', reject);
  });
}

export async function launchBrowser(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
}

/**
 * Page-side script (a string: these tests type-check without the DOM library): the RGB bytes of
 * the viewer image at its natural size, base64, once the image for `frame` is shown (not a
 * pending previous frame) and loaded; `src` is the media route it came from.
 */
export function viewerPixelsScript(frame: number): string {
  return `(async () => {
    const sel = 'img[data-testid="viewer-image"][data-frame="${frame}"]:not([data-pending])';
    const end = Date.now() + 10000;
    let img = document.querySelector(sel);
    while (!img && Date.now() < end) { await new Promise((r) => setTimeout(r, 50)); img = document.querySelector(sel); }
    if (!img) throw new Error('no viewer image for frame ${frame}');
    if (!img.complete || img.naturalWidth === 0) await new Promise((ok, bad) => { img.onload = ok; img.onerror = bad; });
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const rgba = ctx.getImageData(0, 0, c.width, c.height).data;
    const rgb = new Uint8Array(c.width * c.height * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) { rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2]; }
    let s = '';
    for (let i = 0; i < rgb.length; i += 0x8000) s += String.fromCharCode(...rgb.subarray(i, i + 0x8000));
    return { width: c.width, height: c.height, src: img.getAttribute('data-src'), b64: btoa(s) };
  })()`;
}

/**
 * Page-side script: records, on every animation frame, the frame number shown and the frame of
 * the viewer image (with its pending flag) into window.__playbackSamples until __stopSampling().
 */
export const START_SAMPLING_SCRIPT = `(() => {
  const samples = [];
  let on = true;
  const tick = () => {
    if (!on) return;
    const n = document.querySelector('[data-testid="frame-number"]');
    const img = document.querySelector('img[data-testid="viewer-image"]');
    samples.push({
      shown: n ? Number(n.textContent) : -1,
      image: img ? Number(img.getAttribute('data-frame')) : -1,
      pending: img ? img.hasAttribute('data-pending') : false,
    });
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__stopSampling = () => { on = false; return samples; };
})()`;

export const STOP_SAMPLING_SCRIPT = 'window.__stopSampling()';

export interface PlaybackSample {
  shown: number;
  image: number;
  pending: boolean;
}

export interface EditorSession {
  host: ApiHost;
  /** The server, with `url` the address without the token: the page already holds the cookie. */
  server: RunningServer;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** The real services host behind browser mode, and headless Chromium on one page: an e2e file's setup. */
export async function openEditorSession(opts: { dataDir: string; profileDir: string; env?: Record<string, string | undefined> }): Promise<EditorSession> {
  const host = createApiHost({ dataDir: opts.dataDir, env: opts.env ?? process.env });
  const running = await startServer({ port: 0, dataDir: opts.dataDir, staticDir: STATIC_DIR, apiHost: host });
  if (running.token === null) throw new Error('browser mode must run with an access token');
  tokens.set(new URL(running.origin).host, running.token);
  const context = await launchBrowser(opts.profileDir);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err));
  // The user's first step: open the printed URL. The server trades the token for its cookie and
  // redirects to the clean address, which every later request (page, media, WebSocket) uses.
  const first = await page.goto(running.url);
  if (page.url() !== running.origin || first?.status() !== 200) {
    throw new Error(`opening ${running.url} ended at ${page.url()} (HTTP ${first?.status()}), not ${running.origin}`);
  }
  const server: RunningServer = { ...running, url: running.origin };
  return {
    host,
    server,
    context,
    page,
    async close() {
      await context.close();
      await server.close();
      tokens.delete(new URL(running.origin).host);
      await host.dispose();
    },
  };
}

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The open project, failing the test when none is. */
export async function openProjectOf(host: ApiHost): Promise<ProjectSummary> {
  const p = await host.api.project();
  if (!p) throw new Error('no project is open');
  return p;
}

/** A PNG of the page in test-artifacts/e2e/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** The frame number the editor shows. */
export async function frameShown(page: Page): Promise<number> {
  return Number(await page.getByTestId('frame-number').textContent());
}

export interface ClipSession {
  /** A temporary folder, removed after the file's tests. */
  readonly tmp: string;
  /** The test clip inside it. */
  readonly clip: string;
  /** The services' data folder (recent projects, uploads), inside `tmp`. */
  readonly dataDir: string;
  readonly host: ApiHost;
  /** As EditorSession's: `url` is the address without the token. */
  readonly server: RunningServer;
  readonly page: Page;
  /** The open project, failing the test when none is. */
  project(): Promise<ProjectSummary>;
  /** A PNG of the page in test-artifacts/e2e/, its name given the file's prefix. */
  shot(name: string): Promise<void>;
  /** The frame number the editor shows. */
  frameShown(): Promise<number>;
  /** Clicks the timeline at the centre of `frame`. */
  clickTimeline(frame: number): Promise<void>;
}

export interface ClipSessionOptions {
  /** Names the temporary folder (`rr-e2e-<name>-`). */
  name: string;
  /** The screenshots' name prefix: `<name>-` unless given ('' for none). */
  shots?: string;
  width: number;
  height: number;
  frames: number;
  rate?: number;
  /** The clip's path inside the temporary folder, its folders made: `clip.mp4` unless given. */
  file?: string;
  /** The services host's environment (process.env unless given), asked once the clip is made; it may add files to `tmp`. */
  env?: (tmp: string) => Record<string, string | undefined>;
  /** The file's own set-up once the page is open (a project, a viewport), run within the same before(). */
  setUp?: (e2e: ClipSession) => Promise<void>;
}

/**
 * An e2e file's usual setup, registered here as its node:test hooks: before() builds the renderer
 * and makes a temporary folder holding a test clip, then starts the services host and Chromium on
 * it, then runs the file's `setUp`; after() closes them and removes the folder. The fields are
 * filled in by before(), so they are read inside tests and hooks, never at load time. A file's own
 * set-up goes in `setUp`, not in a second top-level before(): those start as they are registered,
 * without waiting for this one.
 */
export function clipSession(opts: ClipSessionOptions): ClipSession {
  let tmp: string | undefined;
  let open: { clip: string; dataDir: string; session: EditorSession } | undefined;
  const live = (): { tmp: string; clip: string; dataDir: string; session: EditorSession } => {
    if (!tmp || !open) throw new Error(`the ${opts.name} e2e session is not open: read its fields inside a test or hook`);
    return { tmp, ...open };
  };
  const shots = opts.shots ?? `${opts.name}-`;

  const fixture: ClipSession = {
    get tmp() { return live().tmp; },
    get clip() { return live().clip; },
    get dataDir() { return live().dataDir; },
    get host() { return live().session.host; },
    get server() { return live().session.server; },
    get page() { return live().session.page; },
    project: () => openProjectOf(live().session.host),
    shot: (name) => screenshot(live().session.page, `${shots}${name}`),
    frameShown: () => frameShown(live().session.page),
    clickTimeline: (frame) => clickTimelineAt(live().session.page, frame),
  };

  before(async () => {
    ensureRendererBuilt();
    // Not emptied first: every e2e file writes its screenshots here (each run overwrites them).
    mkdirSync(ARTIFACTS, { recursive: true });
    tmp = mkdtempSync(path.join(os.tmpdir(), `rr-e2e-${opts.name}-`));
    const clip = path.join(tmp, opts.file ?? 'clip.mp4');
    mkdirSync(path.dirname(clip), { recursive: true });
    makeClip(clip, { width: opts.width, height: opts.height, rate: opts.rate ?? 24, frames: opts.frames });
    const env = opts.env?.(tmp);
    const dataDir = path.join(tmp, 'data');
    const session = await openEditorSession({ dataDir, profileDir: path.join(tmp, 'chromium-profile'), env });
    open = { clip, dataDir, session };
    await opts.setUp?.(fixture);
  });

  after(async () => {
    await open?.session.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  return fixture;
}

/**
 * Plays from frame 0 to the end (Home, Space) and checks, on every animation frame sampled, that
 * the picture is the frame the readout says, never a pending one, and that frames only move
 * forward from 0 to the last. Returns what it saw, for the caller's diagnostics.
 */
export async function checkPlaybackToEnd(page: Page, frameCount: number): Promise<{ visited: number; sampled: number; stalls: number }> {
  await page.keyboard.press('Home');
  assert.equal(await frameShown(page), 0);
  await page.evaluate(START_SAMPLING_SCRIPT);
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: '❚❚ Pause' }).waitFor();
  await page.getByRole('button', { name: '▶ Play' }).waitFor({ timeout: 20_000 });
  const samples = (await page.evaluate(STOP_SAMPLING_SCRIPT)) as PlaybackSample[];
  assert.equal(await frameShown(page), frameCount - 1, 'playback stops on the last frame');
  const showing = samples.filter((x) => x.image >= 0);
  assert.ok(showing.length > frameCount, `sampled ${showing.length} animation frames`);
  for (const x of showing) {
    assert.equal(x.pending, false, `no pending image during playback (frame ${x.shown})`);
    assert.equal(x.image, x.shown, 'the picture is the frame the readout says');
  }
  const visited = showing.map((x) => x.shown).filter((f, i, a) => i === 0 || f !== a[i - 1]);
  assert.deepEqual(visited, [...visited].sort((a, b) => a - b), 'frames only move forward');
  assert.equal(visited[0], 0);
  assert.equal(visited.at(-1), frameCount - 1);
  const stalls = Number(await page.getByTestId('preview-stage').getAttribute('data-stalls'));
  return { visited: visited.length, sampled: showing.length, stalls };
}

export interface TimelineGeometry {
  /** Pixels per frame, horizontal scroll, and the timeline's top-left on the page. */
  px: number;
  scroll: number;
  x: number;
  y: number;
}

/**
 * The geometry the timeline publishes, once it has settled: right after the editor opens it still
 * refits its zoom to its final width, and a position computed from the first reading is another frame.
 */
export async function timelineGeometry(page: Page): Promise<TimelineGeometry> {
  const tl = page.getByTestId('timeline');
  const read = async (): Promise<TimelineGeometry> => {
    const box = await tl.boundingBox();
    assert.ok(box);
    return { px: Number(await tl.getAttribute('data-px-per-frame')), scroll: Number(await tl.getAttribute('data-scroll-x')), x: box.x, y: box.y };
  };
  let g = await read();
  await waitFor('the timeline geometry to settle', async () => {
    await new Promise((r) => setTimeout(r, 100));
    const next = await read();
    const same = JSON.stringify(next) === JSON.stringify(g);
    g = next;
    return same;
  });
  return g;
}

/** Clicks the timeline at the centre of `frame`. */
export async function clickTimelineAt(page: Page, frame: number): Promise<void> {
  const g = await timelineGeometry(page);
  await page.mouse.click(g.x + (frame + 0.5) * g.px - g.scroll, g.y + 50);
}

/**
 * A drag as a hand makes it: the button pressed at the first point, moved through the others
 * (`steps` mouse moves to each), released at the last.
 */
export async function dragThrough(page: Page, points: ReadonlyArray<readonly [number, number]>, steps: number): Promise<void> {
  const [first, ...rest] = points;
  if (!first) throw new Error('a drag needs a point to start from');
  await page.mouse.move(first[0], first[1]);
  await page.mouse.down();
  for (const [x, y] of rest) await page.mouse.move(x, y, { steps });
  await page.mouse.up();
}

/**
 * The viewer shows source frame `n` of `clip` (`frames` long) at width × height, and its pixels are
 * frame n's as ffmpeg decodes it on its own (within JPEG's error), closer than its neighbours'.
 */
export async function viewerShowsSourceFrame(page: Page, clip: string, n: number, size: { width: number; height: number; frames: number }): Promise<void> {
  const { width, height, frames } = size;
  const shown = (await page.evaluate(viewerPixelsScript(n))) as { width: number; height: number; src: string; b64: string };
  assert.match(shown.src, new RegExp(`frame/source/${n}\\.png`));
  assert.deepEqual([shown.width, shown.height], [width, height]);
  const pixels = new Uint8Array(Buffer.from(shown.b64, 'base64'));
  const d = meanAbsDiff(pixels, decodeFrameRgb(clip, n, width, height));
  assert.ok(d < 3, `the shown image is frame ${n} (mean abs diff ${d.toFixed(2)})`);
  for (const m of [n - 1, n + 1]) {
    if (m < 0 || m >= frames) continue;
    const dm = meanAbsDiff(pixels, decodeFrameRgb(clip, m, width, height));
    assert.ok(d < dm, `frame ${n} matches better than frame ${m} (${d.toFixed(2)} vs ${dm.toFixed(2)})`);
  }
}

/** Fills the start screen's new-project form (the video, where to save, the working short side). */
export async function fillNewProject(page: Page, video: string, project: string, shortSide: number): Promise<void> {
  await page.locator('#video-path').fill(video);
  await page.locator('#project-path').fill(project);
  await page.locator('#short-side').fill(String(shortSide));
}

/** Creates a project through the start screen and waits for the editor to show a frame. */
export async function createProjectInPage(page: Page, video: string, project: string, shortSide: number): Promise<void> {
  await fillNewProject(page, video, project, shortSide);
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByTestId('frame-number').waitFor({ timeout: 60_000 });
}
