// The viewer: source, key-frame image or output at the playhead, alone, side by side, or as a
// wipe. Every image is the PNG of that exact frame index from the media routes, loaded through a
// small cache that keeps about a second ahead of the playhead; playback advances on the exact
// rational rate and only to frames whose images are ready.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useFit } from './use-fit.ts';
import { useFrameCache } from './use-frame-cache.ts';
import { mediaRoutes, type ProjectSummary } from '../../src-main/api/contract.ts';
import type { FrameCache } from '../lib/frame-cache.ts';
import { framesToPreload, lookaheadFrames, pushTrail } from '../lib/frame-cache.ts';
import { preparingLabel } from '../lib/proxy-status.ts';
import { keyframeAt } from '../lib/keyframes.ts';
import { mediaVersion } from '../lib/media-version.ts';
import { playbackStep, startClock } from '../lib/playback.ts';
import { OutputStateBadge } from './OutputStateBadge.tsx';

type Layer = 'source' | 'keyframe' | 'output';
type Layout = 'single' | 'side' | 'wipe';

export interface PreviewProps {
  project: ProjectSummary;
  frame: number;
  mediaUrl(route: string, version?: string | number): string;
  playing: boolean;
  onTogglePlay(): void;
  /** Playback moved the playhead. */
  onFrame(frame: number): void;
  /** Playback reached the end. */
  onEnded(): void;
  renderVersion: string;
  /** The fast preview (working-size proxy) being made: its progress, shown near the viewer. */
  preparing?: { done: number; total: number } | null;
}

const PAUSED_AHEAD = 3;
/** Positions a drag keeps loading behind the current one. */
const TRAIL = 12;
/** Decoded frames kept: a few seconds of playback and the last drags, a few MB of JPEG at 512. */
const CACHE_FRAMES = 160;

const LABELS: Record<Layer, string> = { source: 'Source', keyframe: 'Key frame', output: 'Output' };

/** URL of `layer` at `frame`, or null where the layer has nothing by definition. */
export function layerUrl(
  layer: Layer,
  frame: number,
  project: Pick<ProjectSummary, 'path' | 'mediaRev' | 'keyframes'>,
  mediaUrl: PreviewProps['mediaUrl'],
  renderVersion: string,
): string | null {
  if (layer === 'source') return mediaUrl(mediaRoutes.sourceFrame(frame), mediaVersion(project));
  if (layer === 'output') return mediaUrl(mediaRoutes.renderFrame(frame), renderVersion);
  const kf = keyframeAt(project.keyframes, frame);
  return kf && kf.state !== 'none' ? mediaUrl(mediaRoutes.keyframeImage(frame), mediaVersion(project, kf.updatedAt)) : null;
}

interface Shown {
  display: string;
  frame: number;
  url: string;
}

/**
 * One layer's image. While the frame asked for is still loading, the last image stays up marked
 * as pending (with its own frame number), so the picture never claims to be a frame it is not.
 */
function FrameImage({ url, label, frame, testId, cache, trail = [] }: { url: string | null; label: string; frame: number; testId?: string; cache: FrameCache | null; trail?: Shown[] }) {
  const last = useRef<Shown | null>(null);
  const status = url && cache ? cache.status(url) : 'missing';
  if (!url || status === 'failed') {
    last.current = null;
    return (
      <div className="frame-missing" data-testid={testId ? `${testId}-missing` : undefined} data-frame={frame}>
        <span>{label}</span>
        <span className="muted">{url ? `nothing at frame ${frame} yet` : `frame ${frame} is not a key frame`}</span>
      </div>
    );
  }
  const display = cache?.displayUrl(url) ?? null;
  if (display) last.current = { display, frame, url };
  else {
    // Scrubbing: the newest position passed whose picture has landed, if newer than what is up.
    const landed = cache?.firstReady(trail.map((t) => t.url)) ?? null;
    const t = landed === null ? undefined : trail.find((x) => x.url === landed);
    if (t && t.url !== last.current?.url) last.current = { display: cache!.displayUrl(t.url)!, frame: t.frame, url: t.url };
  }
  const shown = last.current;
  if (!shown) return <div className="frame-missing frame-loading" aria-busy="true"><span className="muted">Loading frame {frame}…</span></div>;
  const pending = shown.frame !== frame || shown.url !== url;
  return (
    <img
      className={pending ? 'frame-image pending' : 'frame-image'}
      src={shown.display}
      alt={`${label} frame ${shown.frame}`}
      data-frame={shown.frame}
      data-src={shown.url}
      data-pending={pending ? 'true' : undefined}
      data-testid={testId}
      draggable={false}
    />
  );
}

export function Preview({ project, frame, mediaUrl, playing, onTogglePlay, onFrame, onEnded, renderVersion, preparing = null }: PreviewProps) {
  const [layout, setLayout] = useState<Layout>('single');
  const [a, setA] = useState<Layer>('source');
  const [b, setB] = useState<Layer>('output');
  const [wipe, setWipe] = useState(50);
  const [waiting, setWaiting] = useState(false);
  const [stalls, setStalls] = useState(0);
  const { fps, frameCount } = project.source;
  const ahead = lookaheadFrames(fps);
  const cache = useFrameCache(Math.max(CACHE_FRAMES, 2 * (ahead + 2) + 8 + TRAIL));
  // Positions passed while paused, newest first (idempotent for one frame, so safe in render).
  const trail = useRef<number[]>([]);
  trail.current = playing ? [frame] : pushTrail(trail.current, frame, TRAIL);
  const passed = trail.current.slice(1);

  const layers = useMemo<Layer[]>(() => (layout === 'single' ? [a] : [a, b]), [layout, a, b]);
  const urlsAt = useMemo(
    () => (f: number) => layers.map((l) => layerUrl(l, f, project, mediaUrl, renderVersion)).filter((u): u is string => u !== null),
    [layers, project, mediaUrl, renderVersion],
  );

  // Keep the frames around the playhead loading, nearest first: about a second ahead while
  // playing, a few for stepping while paused. The last positions a drag passed finish loading
  // (their pictures show as they land) but yield to these, and older ones are dropped: scrubbing
  // never queues a backlog. A layout effect: the request leaves before the new playhead is painted.
  const passedKey = passed.join();
  useLayoutEffect(() => {
    const around = framesToPreload(frame, playing ? ahead : PAUSED_AHEAD, frameCount).flatMap(urlsAt);
    cache?.want(around, (passedKey === '' ? [] : passedKey.split(',').map(Number)).flatMap(urlsAt));
  }, [cache, frame, playing, ahead, frameCount, urlsAt, passedKey]);

  // The playback loop reads the latest props through refs; it restarts only on play / pause.
  const latest = useRef({ frame, urlsAt, onFrame, onEnded });
  latest.current = { frame, urlsAt, onFrame, onEnded };
  useEffect(() => {
    if (!playing || !cache) return;
    const ready = (f: number) => latest.current.urlsAt(f).every((u) => cache.settled(u));
    let clock = startClock(latest.current.frame, frameCount, performance.now());
    let shown = clock.originFrame;
    let wasWaiting = false;
    if (shown !== latest.current.frame) latest.current.onFrame(shown);
    let raf = 0;
    const tick = (now: number) => {
      // A seek from outside (keys, timeline) while playing: continue from there.
      if (latest.current.frame !== shown) {
        shown = latest.current.frame;
        clock = { originFrame: shown, originMs: now };
      }
      const step = playbackStep(clock, shown, now, fps, frameCount, ready);
      clock = step.clock;
      if (step.waiting !== wasWaiting) {
        wasWaiting = step.waiting;
        setWaiting(step.waiting);
        if (step.waiting) setStalls((n) => n + 1);
      }
      if (step.frame !== shown) {
        shown = step.frame;
        latest.current.frame = shown;
        latest.current.onFrame(shown);
      }
      if (step.ended) {
        latest.current.onEnded();
        return;
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(raf);
      setWaiting(false);
    };
  }, [playing, cache, fps, frameCount]);

  const urlFor = (layer: Layer) => layerUrl(layer, frame, project, mediaUrl, renderVersion);
  const stage = useRef<HTMLDivElement>(null);
  const fit = useFit(stage, project.working.width, project.working.height, layout === 'side' ? 2 : 1);
  const paneStyle = { width: fit.w, height: fit.h };
  const picker = (value: Layer, set: (l: Layer) => void, label: string) => (
    <select aria-label={label} value={value} onChange={(e) => set(e.target.value as Layer)}>
      {(Object.keys(LABELS) as Layer[]).map((l) => (
        <option key={l} value={l}>
          {LABELS[l]}
        </option>
      ))}
    </select>
  );
  const image = (layer: Layer, testId?: string) => (
    <>
      <FrameImage
        url={urlFor(layer)}
        label={LABELS[layer]}
        frame={frame}
        cache={cache}
        trail={passed.flatMap((f) => {
          const url = layerUrl(layer, f, project, mediaUrl, renderVersion);
          return url ? [{ url, frame: f, display: '' }] : [];
        })}
        {...(testId ? { testId } : {})}
      />
      {layer === 'output' && <OutputStateBadge project={project} frame={frame} />}
    </>
  );

  return (
    <div className="preview">
      <div className="preview-bar">
        <div className="segmented" role="radiogroup" aria-label="Layout">
          {(['single', 'side', 'wipe'] as Layout[]).map((l) => (
            <button key={l} role="radio" aria-checked={layout === l} className={layout === l ? 'active' : ''} onClick={() => setLayout(l)}>
              {l === 'single' ? 'Single' : l === 'side' ? 'Side by side' : 'Wipe'}
            </button>
          ))}
        </div>
        {picker(a, setA, layout === 'single' ? 'Show' : 'Left')}
        {layout !== 'single' && picker(b, setB, 'Right')}
        <button className="play" onClick={onTogglePlay} title="Play / pause at the video's frame rate (Space)">
          {playing ? '❚❚ Pause' : '▶ Play'}
        </button>
        {playing && waiting && <span className="muted small" data-testid="buffering">Loading frames…</span>}
        {preparing && (
          <span className="preparing-preview muted small" data-testid="preparing-preview" title="Until it is ready, each frame is read from the video, which is slower">
            {preparingLabel(preparing)}
          </span>
        )}
        {project.renderedFrames === 0 && <span className="muted small">No output yet: propagate to render every frame.</span>}
      </div>
      <div className={`preview-stage layout-${layout}`} ref={stage} data-testid="preview-stage" data-stalls={stalls} data-cached={cache?.size ?? 0}>
        {layout === 'single' && (
          <div className="pane" style={paneStyle}>
            {image(a, 'viewer-image')}
            <span className="pane-label">{LABELS[a]}</span>
          </div>
        )}
        {layout === 'side' && (
          <>
            <div className="pane" style={paneStyle}>
              {image(a, 'viewer-image')}
              <span className="pane-label">{LABELS[a]}</span>
            </div>
            <div className="pane" style={paneStyle}>
              {image(b)}
              <span className="pane-label">{LABELS[b]}</span>
            </div>
          </>
        )}
        {layout === 'wipe' && (
          <div className="pane wipe" style={paneStyle}>
            {image(a, 'viewer-image')}
            <div className="wipe-top" style={{ clipPath: `inset(0 0 0 ${wipe}%)` }}>
              {image(b)}
            </div>
            <div className="wipe-line" style={{ left: `${wipe}%` }} />
            <span className="pane-label">{LABELS[a]}</span>
            <span className="pane-label right">{LABELS[b]}</span>
            <input
              className="wipe-slider"
              type="range"
              min={0}
              max={100}
              value={wipe}
              aria-label="Wipe position"
              onChange={(e) => setWipe(Number(e.target.value))}
            />
          </div>
        )}
      </div>
    </div>
  );
}
