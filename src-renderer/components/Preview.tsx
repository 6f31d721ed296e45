// The viewer: source, key-frame image or output at the playhead, alone, side by side, or as a
// wipe. Every image is the PNG of that exact frame index from the media routes.
import { useRef, useState } from 'react';
import { useFit } from './use-fit.ts';
import { mediaRoutes, type ProjectSummary } from '../../src-main/api/contract.ts';
import { keyframeAt } from '../lib/keyframes.ts';

type Layer = 'source' | 'keyframe' | 'output';
type Layout = 'single' | 'side' | 'wipe';

export interface PreviewProps {
  project: ProjectSummary;
  frame: number;
  mediaUrl(route: string, version?: string | number): string;
  playing: boolean;
  onTogglePlay(): void;
  renderVersion: string;
}

const LABELS: Record<Layer, string> = { source: 'Source', keyframe: 'Key frame', output: 'Output' };

function FrameImage({ url, label, frame, testId }: { url: string | null; label: string; frame: number; testId?: string }) {
  const [failed, setFailed] = useState<string | null>(null);
  if (!url || failed === url) {
    return (
      <div className="frame-missing">
        <span>{label}</span>
        <span className="muted">{url ? `nothing at frame ${frame} yet` : `frame ${frame} is not a key frame`}</span>
      </div>
    );
  }
  return <img className="frame-image" src={url} alt={`${label} frame ${frame}`} data-frame={frame} data-testid={testId} draggable={false} onError={() => setFailed(url)} />;
}

export function Preview({ project, frame, mediaUrl, playing, onTogglePlay, renderVersion }: PreviewProps) {
  const [layout, setLayout] = useState<Layout>('single');
  const [a, setA] = useState<Layer>('source');
  const [b, setB] = useState<Layer>('output');
  const [wipe, setWipe] = useState(50);
  const kf = keyframeAt(project.keyframes, frame);

  const urlFor = (layer: Layer): string | null => {
    if (layer === 'source') return mediaUrl(mediaRoutes.sourceFrame(frame));
    if (layer === 'output') return mediaUrl(mediaRoutes.renderFrame(frame), renderVersion);
    return kf && kf.state !== 'none' ? mediaUrl(mediaRoutes.keyframeImage(frame), kf.updatedAt) : null;
  };
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
        {project.renderedFrames === 0 && <span className="muted small">No output yet: propagate to render every frame.</span>}
      </div>
      <div className={`preview-stage layout-${layout}`} ref={stage}>
        {layout === 'single' && (
          <div className="pane" style={paneStyle}>
            <FrameImage url={urlFor(a)} label={LABELS[a]} frame={frame} testId="viewer-image" />
            <span className="pane-label">{LABELS[a]}</span>
          </div>
        )}
        {layout === 'side' && (
          <>
            <div className="pane" style={paneStyle}>
              <FrameImage url={urlFor(a)} label={LABELS[a]} frame={frame} testId="viewer-image" />
              <span className="pane-label">{LABELS[a]}</span>
            </div>
            <div className="pane" style={paneStyle}>
              <FrameImage url={urlFor(b)} label={LABELS[b]} frame={frame} />
              <span className="pane-label">{LABELS[b]}</span>
            </div>
          </>
        )}
        {layout === 'wipe' && (
          <div className="pane wipe" style={paneStyle}>
            <FrameImage url={urlFor(a)} label={LABELS[a]} frame={frame} testId="viewer-image" />
            <div className="wipe-top" style={{ clipPath: `inset(0 0 0 ${wipe}%)` }}>
              <FrameImage url={urlFor(b)} label={LABELS[b]} frame={frame} />
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
