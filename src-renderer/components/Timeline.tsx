// The timeline (react-konva): thumbnail strip, frame ruler, a thin band of each frame's render
// status (rendered, out of date, not rendered, rendering; tooltip on hover), key-frame markers by
// state, shot-cut lines (with a "Shot cut" tooltip on hover), and the playhead. Drag on the strip or ruler to scrub; drag a marker to move its key frame; Ctrl+wheel
// zooms around the pointer, wheel scrolls.
import { useEffect, useMemo, useRef, useState } from 'react';
import { Circle, Group, Image as KImage, Label, Layer, Line, Rect, RegularPolygon, Stage, Tag, Text } from 'react-konva';
import type Konva from 'konva';
import type { KeyframeInfo, RenderSpan, RenderStatus } from '../../src-main/api/contract.ts';
import { KEYFRAME_STATES, KEYFRAME_STYLES, moveTarget } from '../lib/keyframes.ts';
import {
  clampScroll,
  contentWidth,
  ensureVisible,
  fitView,
  frameToX,
  rulerTicks,
  runRects,
  xToFrame,
  zoomAround,
  type TimelineView,
} from '../lib/timeline-view.ts';
import { cutAt, cutMarks, cutTooltip, SHOT_CUT_COLOUR, SHOT_CUT_LABEL } from '../lib/shot-cuts.ts';
import { formatSpans, RENDER_STATE_STYLES, RENDER_STATES, spanAt, spanTooltip } from '../lib/render-status.ts';
import { KeyframeGlyph } from './KeyframeGlyph.tsx';
import { useImage } from './use-image.ts';

const RULER_H = 22;
const STRIP_H = 48;
/** The render-status band, between the strip and the key-frame lane. */
const BAND_H = 6;
const BAND_Y = RULER_H + STRIP_H;
const LANE_H = 24;
const HEIGHT = RULER_H + STRIP_H + BAND_H + LANE_H;
const LANE_Y = RULER_H + STRIP_H + BAND_H + LANE_H / 2;

export interface TimelineProps {
  frameCount: number;
  frame: number;
  keyframes: KeyframeInfo[];
  thumbnailsUrl: string;
  /** Frames that start a new shot (the project's shot cuts). */
  cuts?: readonly number[];
  /** Each frame's render status (from the project summary); no band without it. */
  renderStatus?: RenderStatus;
  onSeek(frame: number): void;
  onMoveKeyframe(from: number, to: number): void;
}

function Marker({ k, x, onDragEnd, onClick }: { k: KeyframeInfo; x: number; onDragEnd(x: number): void; onClick(): void }) {
  const s = KEYFRAME_STYLES[k.state];
  const common = {
    x,
    y: LANE_Y,
    fill: s.fill === 'transparent' ? '#1d2027' : s.fill,
    stroke: s.stroke,
    strokeWidth: 1.5,
    draggable: true,
    dragBoundFunc: (pos: { x: number; y: number }) => ({ x: pos.x, y: LANE_Y }),
    onDragEnd: (e: Konva.KonvaEventObject<DragEvent>) => onDragEnd(e.target.x()),
    onClick,
    onMouseEnter: (e: Konva.KonvaEventObject<MouseEvent>) => {
      const c = e.target.getStage()?.container();
      if (c) c.style.cursor = 'ew-resize';
    },
    onMouseLeave: (e: Konva.KonvaEventObject<MouseEvent>) => {
      const c = e.target.getStage()?.container();
      if (c) c.style.cursor = 'default';
    },
    name: 'keyframe-marker',
  };
  if (s.shape === 'circle') return <Circle {...common} radius={6} />;
  if (s.shape === 'triangle') return <RegularPolygon {...common} sides={3} radius={7.5} />;
  return <RegularPolygon {...common} sides={4} radius={7.5} />;
}

export function Timeline({ frameCount, frame, keyframes, thumbnailsUrl, cuts = [], renderStatus, onSeek, onMoveKeyframe }: TimelineProps) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  const [view, setView] = useState<TimelineView>(() => fitView(800, frameCount));
  const [fitted, setFitted] = useState(true);
  const scrubbing = useRef(false);
  // The shot cut under the pointer, if any: its tooltip is shown.
  const [hoverCut, setHoverCut] = useState<number | null>(null);
  // The render-status span under the pointer, if any: its tooltip is shown.
  const [hoverSpan, setHoverSpan] = useState<RenderSpan | null>(null);
  // Bumped when a dropped marker must snap back: remounting resets Konva's dragged position.
  const [dragGen, setDragGen] = useState(0);
  const thumbs = useImage(thumbnailsUrl);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(200, Math.floor(el.clientWidth))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Stay fitted while the user has not zoomed; otherwise keep the playhead in view.
  useEffect(() => {
    setView((v) => (fitted ? fitView(width, frameCount) : ensureVisible(clampScroll(v, width, frameCount), frame, width, frameCount)));
  }, [width, frameCount, frame, fitted]);

  useEffect(() => {
    const up = () => (scrubbing.current = false);
    window.addEventListener('mouseup', up);
    return () => window.removeEventListener('mouseup', up);
  }, []);

  const ticks = useMemo(() => rulerTicks(view, width, frameCount), [view, width, frameCount]);
  const minorEvery = view.pxPerFrame >= 6 ? 1 : null;
  const x0 = -view.scrollX;
  const cw = contentWidth(view, frameCount);
  const marks = useMemo(() => cutMarks(view, cuts, width, frameCount), [view, cuts, width, frameCount]);
  const hovered = marks.find((m) => m.frame === hoverCut) ?? null;
  const spans = useMemo(() => renderStatus?.spans ?? [], [renderStatus]);
  const band = useMemo(() => runRects(view, spans, width), [view, spans, width]);

  const seekAt = (stage: Konva.Stage | null) => {
    const p = stage?.getPointerPosition();
    if (p) onSeek(xToFrame(view, p.x, frameCount));
  };

  const zoom = (factor: number, anchorX = frameToX(view, frame)) => {
    setFitted(false);
    setView((v) => zoomAround(v, factor, anchorX, width, frameCount));
  };

  const playX = frameToX(view, frame);
  return (
    <div className="timeline">
      <div className="timeline-bar">
        <div className="zoom">
          <button onClick={() => zoom(1 / 1.5)} aria-label="Zoom out" title="Zoom out (Ctrl+wheel)">
            −
          </button>
          <button
            onClick={() => {
              setFitted(true);
              setView(fitView(width, frameCount));
            }}
            title="Fit the whole clip"
          >
            Fit
          </button>
          <button onClick={() => zoom(1.5)} aria-label="Zoom in" title="Zoom in (Ctrl+wheel)">
            +
          </button>
        </div>
        {renderStatus && (
          <div className="legend render-legend" data-testid="render-legend">
            {RENDER_STATES.filter((s) => s !== 'rendering' || renderStatus.counts.rendering > 0).map((s) => (
              <span key={s} className="legend-item" title={`${RENDER_STATE_STYLES[s].description}: ${renderStatus.counts[s]} frame(s)`} data-state={s}>
                <svg width="12" height="6" aria-hidden="true">
                  <rect x="0" y="0" width="12" height="6" rx="1" fill={RENDER_STATE_STYLES[s].colour} />
                </svg>{' '}
                {RENDER_STATE_STYLES[s].label} <span className="muted">{renderStatus.counts[s]}</span>
              </span>
            ))}
          </div>
        )}
        <div className="legend" data-testid="keyframe-legend">
          {KEYFRAME_STATES.map((s) => (
            <span key={s} className="legend-item" title={KEYFRAME_STYLES[s].description}>
              <KeyframeGlyph state={s} /> {KEYFRAME_STYLES[s].label}
            </span>
          ))}
          {cuts.length > 0 && (
            <span className="legend-item" title="The first frame of a new shot: nothing is propagated across it, so each shot needs a key frame of its own" data-testid="cut-legend">
              <svg width="6" height="12" aria-hidden="true">
                <rect x="2" y="0" width="2" height="12" fill={SHOT_CUT_COLOUR} />
              </svg>{' '}
              {SHOT_CUT_LABEL}
            </span>
          )}
        </div>
      </div>
      <div
        ref={box}
        className="timeline-canvas"
        data-testid="timeline"
        data-px-per-frame={view.pxPerFrame}
        data-scroll-x={view.scrollX}
        data-markers={keyframes.map((k) => `${k.frame}:${k.state}`).join(' ')}
        data-cuts={cuts.join(' ')}
        data-render-status={formatSpans(spans)}
        title={hovered ? cutTooltip(hovered.frame) : hoverSpan ? spanTooltip(hoverSpan) : undefined}
        onWheel={(e) => {
          if (e.ctrlKey || e.metaKey) {
            const rect = e.currentTarget.getBoundingClientRect();
            zoom(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - rect.left);
          } else {
            const d = Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX : e.deltaY;
            setView((v) => clampScroll({ ...v, scrollX: v.scrollX + d }, width, frameCount));
          }
        }}
      >
        <Stage
          width={width}
          height={HEIGHT}
          onMouseDown={(e) => {
            if (e.target.hasName('keyframe-marker')) return;
            scrubbing.current = true;
            seekAt(e.target.getStage());
          }}
          onMouseMove={(e) => {
            if (scrubbing.current) seekAt(e.target.getStage());
            const p = e.target.getStage()?.getPointerPosition();
            const on = p && p.y <= RULER_H + STRIP_H ? cutAt(marks, p.x) : null;
            setHoverCut(on ? on.frame : null);
            const inBand = p && p.y >= BAND_Y - 2 && p.y <= BAND_Y + BAND_H + 2;
            setHoverSpan(inBand ? spanAt(spans, xToFrame(view, p.x, frameCount)) : null);
          }}
          onMouseLeave={() => {
            setHoverCut(null);
            setHoverSpan(null);
          }}
          onMouseUp={() => (scrubbing.current = false)}
        >
          <Layer>
            <Rect x={0} y={0} width={width} height={HEIGHT} fill="#14161b" />
            <Rect x={x0} y={RULER_H} width={cw} height={STRIP_H} fill="#20232b" />
            {thumbs && <KImage image={thumbs} x={x0} y={RULER_H} width={cw} height={STRIP_H} opacity={0.9} listening={false} />}
            <Rect x={0} y={BAND_Y} width={width} height={BAND_H + LANE_H} fill="#181a20" />
            {band.map((r) => (
              <Rect key={`rs${r.start}`} name="render-status" x={r.x} y={BAND_Y + 1} width={r.w} height={BAND_H - 2} fill={RENDER_STATE_STYLES[r.state].colour} listening={false} />
            ))}
            {minorEvery &&
              Array.from({ length: Math.ceil(width / view.pxPerFrame) + 2 }, (_, i) => Math.floor(view.scrollX / view.pxPerFrame) + i)
                .filter((f) => f < frameCount)
                .map((f) => (
                  <Line key={`m${f}`} points={[f * view.pxPerFrame + x0, RULER_H - 5, f * view.pxPerFrame + x0, RULER_H]} stroke="#4a4f5c" strokeWidth={1} listening={false} />
                ))}
            {ticks.map((f) => (
              <Group key={f} listening={false}>
                <Line points={[f * view.pxPerFrame + x0, 6, f * view.pxPerFrame + x0, RULER_H]} stroke="#7d8494" strokeWidth={1} />
                <Text x={f * view.pxPerFrame + x0 + 3} y={4} text={String(f)} fontSize={11} fill="#aeb4c2" fontFamily="ui-monospace, monospace" />
              </Group>
            ))}
            {keyframes.map((k) => (
              <Line
                key={`kl${k.frame}`}
                points={[frameToX(view, k.frame), RULER_H, frameToX(view, k.frame), RULER_H + STRIP_H]}
                stroke={KEYFRAME_STYLES[k.state].stroke}
                strokeWidth={1}
                dash={[3, 3]}
                opacity={0.7}
                listening={false}
              />
            ))}
            {keyframes.map((k) => (
              <Marker
                key={`k${k.frame}-${k.state}-${k.updatedAt}-${dragGen}`}
                k={k}
                x={frameToX(view, k.frame)}
                onClick={() => onSeek(k.frame)}
                onDragEnd={(x) => {
                  const to = moveTarget(keyframes, k.frame, xToFrame(view, x, frameCount), frameCount);
                  if (to !== null) onMoveKeyframe(k.frame, to);
                  else setDragGen((g) => g + 1);
                }}
              />
            ))}
            {marks.map((m) => (
              <Line
                key={`cut${m.frame}`}
                name="shot-cut"
                points={[m.x, 0, m.x, RULER_H + STRIP_H]}
                stroke={SHOT_CUT_COLOUR}
                strokeWidth={m.frame === hoverCut ? 2.5 : 1.5}
                listening={false}
              />
            ))}
            <Line points={[playX, 0, playX, HEIGHT]} stroke="#ff5c5c" strokeWidth={1.5} listening={false} />
            {hovered && (
              <Label x={Math.min(Math.max(hovered.x, 40), width - 40)} y={RULER_H + 4} listening={false}>
                <Tag fill="#0e2a31" stroke={SHOT_CUT_COLOUR} strokeWidth={1} cornerRadius={3} pointerDirection="up" pointerWidth={8} pointerHeight={4} />
                <Text text={`${SHOT_CUT_LABEL} · ${hovered.frame}`} fontSize={11} padding={4} fill="#d8f6fc" fontFamily="ui-sans-serif, system-ui" />
              </Label>
            )}
            <RegularPolygon x={playX} y={RULER_H - 6} sides={3} radius={6} rotation={180} fill="#ff5c5c" listening={false} />
            <Rect x={playX - Math.max(1, view.pxPerFrame) / 2} y={RULER_H} width={Math.max(1, view.pxPerFrame)} height={STRIP_H} stroke="#ff5c5c" strokeWidth={1} listening={false} />
          </Layer>
        </Stage>
      </div>
    </div>
  );
}
