// The editor screen: header, key-frame panel, viewer / mask painter, parameters, jobs and the
// timeline; owns the playhead and the keyboard shortcuts.
import { useCallback, useEffect, useRef, useState } from 'react';
import { mediaRoutes, type Capabilities, type JobInfo, type ProjectSummary } from '../../src-main/api/contract.ts';
import { clampFrame, formatFps, formatFrameTime, stepFrame } from '../lib/frames.ts';
import { mediaVersion, stripVersion } from '../lib/media-version.ts';
import { keyframeAt, nextKeyframe, prevKeyframe } from '../lib/keyframes.ts';
import { actionForKey, isTypingTarget, type Action } from '../lib/shortcuts.ts';
import { browserStorage, loadPlayhead, savePlayhead } from '../lib/playhead-store.ts';
import type { Services } from './App.tsx';
import { ExportDialog } from './ExportDialog.tsx';
import { HelpSheet } from './HelpSheet.tsx';
import { HistoryPanel, useProjectHistory } from './HistoryPanel.tsx';
import { historyRoute } from '../lib/project-history.ts';
import { JobsPanel } from './JobsPanel.tsx';
import { CropInfo } from './CropInfo.tsx';
import { DeviceLine, useJobOutlook } from './DeviceLine.tsx';
import { KeyframePanel } from './KeyframePanel.tsx';
import { MaskPainter, type PainterHandle } from './MaskPainter.tsx';
import { ParamsPanel } from './ParamsPanel.tsx';
import { Preview } from './Preview.tsx';
import { preparingPreview } from '../lib/proxy-status.ts';
import { Timeline } from './Timeline.tsx';

export interface EditorProps {
  services: Services;
  project: ProjectSummary;
  capabilities: Capabilities | null;
  jobs: JobInfo[];
}

export function Editor({ services, project, capabilities, jobs }: EditorProps) {
  const { api, mediaUrl } = services.connection;
  const { run, setProject } = services;
  const count = project.source.frameCount;
  // App keys the editor by project path, so this initial read runs once per opened project.
  const [frame, setFrame] = useState(() => loadPlayhead(browserStorage(), project.path, count));
  const [tab, setTab] = useState<'viewer' | 'mask'>('viewer');
  const [help, setHelp] = useState(false);
  const [exporting, setExporting] = useState(false);
  const [playing, setPlaying] = useState(false);
  const painter = useRef<PainterHandle | null>(null);
  const keyframe = keyframeAt(project.keyframes, frame);

  const seek = useCallback((f: number) => setFrame(clampFrame(f, count)), [count]);

  // Not on every played frame: the position is stored once playback stops.
  useEffect(() => {
    if (!playing) savePlayhead(browserStorage(), project.path, frame);
  }, [frame, playing, project.path]);

  const update = useCallback(
    async (request: Promise<ProjectSummary>) => {
      const p = await run(request);
      if (p) setProject(p);
      return p;
    },
    [run, setProject],
  );
  const projectHistory = useProjectHistory(api, project, update);
  const outlook = useJobOutlook(api, project, jobs);

  const addKeyframe = useCallback(() => void update(api.addKeyframe(frame)), [api, frame, update]);
  const removeKeyframe = useCallback(() => {
    if (keyframeAt(project.keyframes, frame)) void update(api.removeKeyframe(frame));
  }, [api, frame, project.keyframes, update]);

  const perform = useCallback(
    (action: Action) => {
      switch (action) {
        case 'prev-frame':
          return seek(stepFrame(frame, -1, count));
        case 'next-frame':
          return seek(stepFrame(frame, 1, count));
        case 'prev-frame-10':
          return seek(stepFrame(frame, -10, count));
        case 'next-frame-10':
          return seek(stepFrame(frame, 10, count));
        case 'first-frame':
          return seek(0);
        case 'last-frame':
          return seek(count - 1);
        case 'add-keyframe':
          return addKeyframe();
        case 'remove-keyframe':
          return removeKeyframe();
        case 'prev-keyframe': {
          const k = prevKeyframe(project.keyframes, frame);
          return k === undefined ? undefined : seek(k);
        }
        case 'next-keyframe': {
          const k = nextKeyframe(project.keyframes, frame);
          return k === undefined ? undefined : seek(k);
        }
        case 'toggle-play':
          return setPlaying((p) => !p);
        case 'undo':
          return historyRoute(tab === 'mask', painter.current?.canUndo() ?? false) === 'painter' ? painter.current?.undo() : projectHistory.undo();
        case 'redo':
          return historyRoute(tab === 'mask', painter.current?.canRedo() ?? false) === 'painter' ? painter.current?.redo() : projectHistory.redo();
        case 'help':
          return setHelp((h) => !h);
        case 'export':
          return setExporting(true);
        case 'brush':
          return painter.current?.setMode('paint');
        case 'eraser':
          return painter.current?.setMode('erase');
        case 'toggle-mask':
          return painter.current?.toggleOverlay();
        case 'escape':
          setHelp(false);
          setExporting(false);
          return;
      }
    },
    [addKeyframe, count, frame, project.keyframes, removeKeyframe, seek, tab, projectHistory],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTypingTarget(e.target)) return;
      const action = actionForKey(e);
      if (!action) return;
      // While a dialog is open only Escape and help reach the editor.
      if ((help || exporting) && action !== 'escape' && action !== 'help') return;
      e.preventDefault();
      perform(action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [perform, help, exporting]);

  const src = project.source;
  return (
    <div className="editor">
      <header className="topbar">
        <div className="title">
          <strong>{project.name}</strong>
          <span className="muted" title={project.path}>
            {project.path}
          </span>
        </div>
        <div className="source-info muted" title={`Source ${src.width}×${src.height}, working size ${project.working.width}×${project.working.height}, ${formatFps(src.fps)}, ${src.frameCount} frames`}>
          {src.width}×{src.height} → {project.working.width}×{project.working.height} · {formatFps(src.fps)} · {src.frameCount} frames
          {src.hasAudio ? ' · audio' : ''}
          {src.warnings && src.warnings.length > 0 && (
            <span className="source-warning" title={src.warnings.join('\n')} role="note">
              {' '}· ⚠ {src.warnings.length === 1 ? 'note on the source' : `${src.warnings.length} notes on the source`}
            </span>
          )}
        </div>
        <CropInfo source={src} crop={project.workingCrop} imageUrl={mediaUrl(mediaRoutes.sourceFrame(frame), mediaVersion(project))} />
        <DeviceLine outlook={outlook} />
        <div className="actions">
          <HistoryPanel history={projectHistory} />
          <button onClick={() => setExporting(true)} title="Export video (Ctrl+E)">
            Export…
          </button>
          <button onClick={() => setHelp(true)} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">
            ?
          </button>
          <button
            onClick={() => {
              void run(api.closeProject()).then(() => setProject(null));
            }}
          >
            Close
          </button>
        </div>
      </header>

      <aside className="left-panel">
        <KeyframePanel
          services={services}
          project={project}
          frame={frame}
          capabilities={capabilities}
          jobs={jobs}
          onSeek={seek}
          onAdd={addKeyframe}
          onRemove={removeKeyframe}
          onEditMask={() => {
            setPlaying(false);
            setTab('mask');
          }}
          update={update}
        />
      </aside>

      <main className="center">
        <div className="tabs" role="tablist">
          <button role="tab" aria-selected={tab === 'viewer'} className={tab === 'viewer' ? 'tab active' : 'tab'} onClick={() => setTab('viewer')}>
            Preview
          </button>
          <button
            role="tab"
            aria-selected={tab === 'mask'}
            className={tab === 'mask' ? 'tab active' : 'tab'}
            onClick={() => {
              setPlaying(false);
              setTab('mask');
            }}
            disabled={!keyframe}
            title={keyframe ? 'Paint the mask of this key frame' : 'Masks belong to key frames: add one here first (K)'}
          >
            Mask painter
          </button>
          <div className="frame-readout">
            Frame <span data-testid="frame-number">{frame}</span> / {count - 1}
            <span className="muted"> · {formatFrameTime(frame, src.fps)}</span>
            {keyframe && <span className="pill">key frame</span>}
          </div>
        </div>
        {tab === 'mask' && keyframe ? (
          <MaskPainter
            key={`mask-${frame}`}
            ref={painter}
            frame={frame}
            project={project}
            backgroundUrl={
              keyframe.state === 'none'
                ? mediaUrl(mediaRoutes.sourceFrame(frame), mediaVersion(project))
                : mediaUrl(mediaRoutes.keyframeImage(frame), mediaVersion(project, keyframe.updatedAt))
            }
            maskUrl={mediaUrl(mediaRoutes.keyframeMask(frame), mediaVersion(project, keyframe.updatedAt))}
            revision={projectHistory.revision}
            save={(png) => update(api.setKeyframeMask(frame, png))}
          />
        ) : (
          <Preview
            project={project}
            frame={frame}
            mediaUrl={mediaUrl}
            playing={playing}
            onTogglePlay={() => setPlaying((p) => !p)}
            onFrame={setFrame}
            onEnded={() => setPlaying(false)}
            renderVersion={mediaVersion(project, project.renderedFrames, project.renderStatus?.counts.rendered ?? 0, jobs.filter((j) => (j.kind === 'propagate' || j.kind === 'farm') && j.status === 'done').length)}
            preparing={preparingPreview(jobs)}
          />
        )}
      </main>

      <aside className="right-panel">
        <JobsPanel services={services} project={project} jobs={jobs} capabilities={capabilities} outlook={outlook} />
        <ParamsPanel services={services} project={project} capabilities={capabilities} update={update} />
      </aside>

      <footer className="bottom">
        <Timeline
          frameCount={count}
          frame={frame}
          keyframes={project.keyframes}
          cuts={project.shotCuts}
          renderStatus={project.renderStatus}
          thumbnailsUrl={mediaUrl(mediaRoutes.thumbnails(), stripVersion(project, jobs))}
          onSeek={(f) => {
            setPlaying(false);
            seek(f);
          }}
          onMoveKeyframe={(from, to) => {
            void update(api.moveKeyframe(from, to)).then((p) => p && seek(to));
          }}
        />
      </footer>

      {help && <HelpSheet onClose={() => setHelp(false)} />}
      {exporting && <ExportDialog services={services} project={project} jobs={jobs} onClose={() => setExporting(false)} />}
    </div>
  );
}
