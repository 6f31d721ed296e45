// The mask painter (react-konva) for one key frame: brush / eraser with size and hardness
// (feathered edges), overlay show/hide and opacity, undo/redo. The mask lives at the project's
// working resolution and is saved after every stroke as a grey PNG through setKeyframeMask.
import { useCallback, useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react';
import { Circle, Image as KImage, Layer, Stage } from 'react-konva';
import type Konva from 'konva';
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import { canRedo, canUndo, createHistory, pushHistory, redo, undo, type History } from '../lib/history.ts';
import { decodeMaskPng, encodeMaskPng } from '../lib/mask-png.ts';
import { cloneMask, createMask, isEmptyMask, maskToRgba, paintStroke, toMaskPoint, type Brush, type Mask, type Point } from '../lib/mask-raster.ts';
import { useImage } from './use-image.ts';

export interface PainterHandle {
  undo(): void;
  redo(): void;
  /** Whether the painter has strokes of its own to undo / redo (else Ctrl+Z goes to the project). */
  canUndo(): boolean;
  canRedo(): boolean;
  setMode(mode: Brush['mode']): void;
  toggleOverlay(): void;
}

export interface MaskPainterProps {
  ref?: Ref<PainterHandle | null>;
  frame: number;
  project: ProjectSummary;
  backgroundUrl: string;
  maskUrl: string;
  /** Changes when the project's history moved (undo/redo): the saved mask is read again. */
  revision?: number;
  save(png: Uint8Array<ArrayBuffer> | null): Promise<unknown>;
}

const OVERLAY_RGB: [number, number, number] = [255, 64, 96];

async function loadMask(url: string, width: number, height: number): Promise<Mask> {
  const res = await fetch(url);
  if (!res.ok) return createMask(width, height);
  return decodeMaskPng(new Uint8Array(await res.arrayBuffer()), width, height);
}

export function MaskPainter({ ref, frame, project, backgroundUrl, maskUrl, revision = 0, save }: MaskPainterProps) {
  const { width: W, height: H } = project.working;
  const box = useRef<HTMLDivElement>(null);
  const [fit, setFit] = useState({ w: 640, h: 480 });
  const [history, setHistory] = useState<History<Mask> | null>(null);
  const [brush, setBrush] = useState<Brush>({ mode: 'paint', size: Math.max(4, Math.round(Math.min(W, H) / 10)), hardness: 0.6 });
  const [showOverlay, setShowOverlay] = useState(true);
  const [opacity, setOpacity] = useState(0.55);
  const [cursor, setCursor] = useState<Point | null>(null);
  const [saving, setSaving] = useState<'idle' | 'saving' | 'saved' | 'error'>('idle');
  const [loadError, setLoadError] = useState<string | null>(null);
  const background = useImage(backgroundUrl);
  const overlayCanvas = useRef<HTMLCanvasElement | null>(null);
  const [overlayTick, setOverlayTick] = useState(0);
  const live = useRef<{ mask: Mask; points: Point[] } | null>(null);

  // Load the saved mask once (the URL carries the key frame's version; our own saves do not remount).
  const initialUrl = useRef(maskUrl);
  useEffect(() => {
    let alive = true;
    loadMask(initialUrl.current, W, H).then(
      (m) => alive && setHistory(createHistory(m, 40)),
      (err: unknown) => {
        if (!alive) return;
        setLoadError(err instanceof Error ? err.message : String(err));
        setHistory(createHistory(createMask(W, H), 40));
      },
    );
    return () => {
      alive = false;
    };
  }, [W, H]);

  // A project undo/redo may have changed the saved mask: start again from it, with no strokes to undo.
  const latestUrl = useRef(maskUrl);
  latestUrl.current = maskUrl;
  const loadedRevision = useRef(revision);
  useEffect(() => {
    if (revision === loadedRevision.current) return;
    loadedRevision.current = revision;
    let alive = true;
    loadMask(latestUrl.current, W, H).then(
      (m) => alive && setHistory(createHistory(m, 40)),
      () => undefined,
    );
    return () => {
      alive = false;
    };
  }, [revision, W, H]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      const s = Math.min((el.clientWidth - 16) / W, (el.clientHeight - 16) / H);
      const scale = Math.max(0.1, s);
      setFit({ w: Math.round(W * scale), h: Math.round(H * scale) });
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [W, H]);

  const drawOverlay = useCallback(
    (mask: Mask) => {
      let c = overlayCanvas.current;
      if (!c) {
        c = document.createElement('canvas');
        c.width = W;
        c.height = H;
        overlayCanvas.current = c;
      }
      const ctx = c.getContext('2d');
      if (!ctx) return;
      const img = ctx.createImageData(W, H);
      maskToRgba(mask, OVERLAY_RGB, 1, img.data);
      ctx.putImageData(img, 0, 0);
      setOverlayTick((t) => t + 1);
    },
    [W, H],
  );

  useEffect(() => {
    if (history) drawOverlay(history.present);
  }, [history, drawOverlay]);

  const persist = useCallback(
    async (mask: Mask) => {
      setSaving('saving');
      try {
        await save(isEmptyMask(mask) ? null : encodeMaskPng(mask));
        setSaving('saved');
      } catch {
        setSaving('error');
      }
    },
    [save],
  );

  const step = useCallback(
    (dir: 'undo' | 'redo') => {
      setHistory((h) => {
        if (!h || !(dir === 'undo' ? canUndo(h) : canRedo(h))) return h;
        const next = dir === 'undo' ? undo(h) : redo(h);
        void persist(next.present);
        return next;
      });
    },
    [persist],
  );

  useImperativeHandle(
    ref,
    () => ({
      undo: () => step('undo'),
      redo: () => step('redo'),
      canUndo: () => history !== null && canUndo(history),
      canRedo: () => history !== null && canRedo(history),
      setMode: (mode) => setBrush((b) => ({ ...b, mode })),
      toggleOverlay: () => setShowOverlay((s) => !s),
    }),
    [step, history],
  );

  const toMask = (stage: Konva.Stage | null): Point | null => {
    const p = stage?.getPointerPosition();
    return p ? toMaskPoint(p, fit.w, fit.h, { width: W, height: H, data: new Uint8Array(0) }) : null;
  };

  const begin = (stage: Konva.Stage | null) => {
    if (!history) return;
    const p = toMask(stage);
    if (!p) return;
    const mask = cloneMask(history.present);
    paintStroke(mask, [p], brush);
    live.current = { mask, points: [p] };
    drawOverlay(mask);
  };
  const extend = (stage: Konva.Stage | null) => {
    const p = toMask(stage);
    setCursor(p);
    const s = live.current;
    if (!s || !p) return;
    const last = s.points[s.points.length - 1]!;
    paintStroke(s.mask, [last, p], brush);
    s.points.push(p);
    drawOverlay(s.mask);
  };
  const end = () => {
    const s = live.current;
    if (!s) return;
    live.current = null;
    setHistory((h) => (h ? pushHistory(h, s.mask) : h));
    void persist(s.mask);
  };

  useEffect(() => {
    const up = () => end();
    window.addEventListener('mouseup', up);
    return () => window.removeEventListener('mouseup', up);
  });

  const scale = fit.w / W;
  return (
    <div className="painter">
      <div className="painter-tools">
        <div className="segmented" role="radiogroup" aria-label="Tool">
          <button role="radio" aria-checked={brush.mode === 'paint'} className={brush.mode === 'paint' ? 'active' : ''} onClick={() => setBrush({ ...brush, mode: 'paint' })} title="Brush (B)">
            Brush
          </button>
          <button role="radio" aria-checked={brush.mode === 'erase'} className={brush.mode === 'erase' ? 'active' : ''} onClick={() => setBrush({ ...brush, mode: 'erase' })} title="Eraser (E)">
            Eraser
          </button>
        </div>
        <label className="slider">
          Size <span className="value">{brush.size}px</span>
          <input type="range" min={1} max={Math.max(16, Math.round(Math.max(W, H) / 2))} value={brush.size} onChange={(e) => setBrush({ ...brush, size: Number(e.target.value) })} aria-label="Brush size" />
        </label>
        <label className="slider">
          Hardness <span className="value">{Math.round(brush.hardness * 100)}%</span>
          <input type="range" min={0} max={100} value={Math.round(brush.hardness * 100)} onChange={(e) => setBrush({ ...brush, hardness: Number(e.target.value) / 100 })} aria-label="Brush hardness" />
        </label>
        <label className="check">
          <input type="checkbox" checked={showOverlay} onChange={(e) => setShowOverlay(e.target.checked)} /> Overlay
        </label>
        <label className="slider">
          Opacity <span className="value">{Math.round(opacity * 100)}%</span>
          <input type="range" min={5} max={100} value={Math.round(opacity * 100)} onChange={(e) => setOpacity(Number(e.target.value) / 100)} aria-label="Overlay opacity" />
        </label>
        <button onClick={() => step('undo')} disabled={!history || !canUndo(history)} title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button onClick={() => step('redo')} disabled={!history || !canRedo(history)} title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
        <button
          onClick={() => {
            if (!history) return;
            const empty = createMask(W, H);
            setHistory(pushHistory(history, empty));
            void persist(empty);
          }}
          disabled={!history || isEmptyMask(history.present)}
        >
          Clear mask
        </button>
        <span className={`save-state ${saving}`} data-testid="mask-save-state">
          {saving === 'saving' ? 'Saving…' : saving === 'saved' ? 'Saved' : saving === 'error' ? 'Not saved' : ''}
        </span>
      </div>
      {loadError && <p className="field-error">Could not read the saved mask ({loadError}); starting from an empty one.</p>}
      <div className="painter-stage" ref={box}>
        <div className="painter-canvas" data-testid="mask-stage" data-frame={frame} style={{ width: fit.w, height: fit.h, cursor: 'none' }}>
          <Stage
            width={fit.w}
            height={fit.h}
            onMouseDown={(e) => begin(e.target.getStage())}
            onMouseMove={(e) => extend(e.target.getStage())}
            onMouseLeave={() => setCursor(null)}
          >
            <Layer listening={false}>
              {background && <KImage image={background} width={fit.w} height={fit.h} />}
              {showOverlay && overlayCanvas.current && <KImage key={overlayTick} image={overlayCanvas.current} width={fit.w} height={fit.h} opacity={opacity} imageSmoothingEnabled={false} />}
              {cursor && (
                <Circle
                  x={cursor.x * scale}
                  y={cursor.y * scale}
                  radius={(brush.size / 2) * scale}
                  stroke={brush.mode === 'paint' ? '#ffffff' : '#ffd166'}
                  strokeWidth={1}
                  dash={brush.mode === 'erase' ? [4, 3] : undefined}
                  shadowColor="#000"
                  shadowBlur={2}
                />
              )}
            </Layer>
          </Stage>
        </div>
      </div>
      <p className="muted small painter-hint">
        Paint where the edit should apply (white in the saved mask). Working resolution {W}×{H}; saved after every stroke.
      </p>
    </div>
  );
}
