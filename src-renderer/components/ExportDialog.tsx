// Export: output path, size (the source's resolution by default, or the working size), quality
// (CRF), audio; then the job's progress, and the file: "Reveal file" in Electron, a download link
// and a player in browser mode (the browser may be on another machine than the file).
// Nothing is replaced unasked: the services refuse an existing file (OUTPUT_EXISTS) and the
// dialog asks "Replace <name>?" before retrying with `overwrite`.
// Nothing is mixed unsaid: when frames are out of date, not rendered, or being rendered, the
// dialog says how many and offers "Propagate first, then export" (the services chain the two:
// cancelling the propagation cancels the export) or "Export anyway" (saying what it writes).
import { useState } from 'react';
import type { JobInfo, ProjectSummary } from '../../src-main/api/contract.ts';
import { isActive } from '../lib/jobs.ts';
import { exportDownloadUrl, exportReadiness } from '../lib/render-status.ts';
import type { Services } from './App.tsx';
import { JobRow } from './JobsPanel.tsx';
import { Modal } from './Modal.tsx';

function defaultOutput(projectPath: string): string {
  const m = /^(.*?)(\.[^./\\]+)?$/.exec(projectPath);
  return `${m?.[1] || projectPath}-rerendered.mp4`;
}

function baseName(file: string): string {
  return file.split(/[/\\]/).filter((p) => p !== '').at(-1) ?? file;
}

/** "'a.txt' already exists and is not a video; it was not replaced. …" → what was found. */
function finding(message: string): string {
  const cut = message.indexOf('; it was not replaced');
  return cut > 0 ? message.slice(0, cut) : message;
}

export function ExportDialog({ services, project, jobs, onClose }: { services: Services; project: ProjectSummary; jobs: JobInfo[]; onClose(): void }) {
  const { api } = services.connection;
  const saved = project.settings.export as { crf?: unknown; audio?: unknown } | undefined;
  const [outPath, setOutPath] = useState(defaultOutput(project.path));
  const [crf, setCrf] = useState(String(typeof saved?.crf === 'number' ? saved.crf : 18));
  const [audio, setAudio] = useState(project.source.hasAudio && saved?.audio !== false);
  const [size, setSize] = useState<'source' | 'working'>('source');
  // Older services send no exportSize: the source's own size (even) is then the best guess.
  const sourceSize = project.exportSize ?? { width: project.source.width - (project.source.width % 2), height: project.source.height - (project.source.height % 2) };
  // Reopened while an export runs: follow it.
  const [jobId, setJobId] = useState<string | null>(() => jobs.find((j) => j.kind === 'export' && isActive(j))?.id ?? null);
  /** Whether the job followed waits for a propagation (started with "Propagate first"). */
  const [chained, setChained] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const job = jobs.find((j) => j.id === jobId) ?? null;

  /** An existing file the services would not replace unasked: its name and what it is. */
  const [confirm, setConfirm] = useState<{ name: string; finding: string; propagateFirst: boolean } | null>(null);
  const ready = exportReadiness(project, jobs);
  const busy = job !== null && isActive(job);
  // The propagation an active chained export waits for.
  const waitingFor = chained && busy ? ready.propagation : null;
  const canPropagate = project.keyframes.some((k) => k.state !== 'none');
  const browser = services.connection.mode === 'browser';
  const [showPath, setShowPath] = useState(false);

  const start = async (overwrite = false, propagateFirst = false) => {
    const q = Number(crf);
    if (!Number.isInteger(q) || q < 0 || q > 51) return setError('Quality (CRF) must be a whole number from 0 (lossless) to 51.');
    const out = outPath.trim();
    if (!out) return setError('Choose where to write the video.');
    // The services refuse this too (comparing the real files); saying it here spares a pointless question.
    if (out === project.path) return setError('That is the open project; choose another file name for the video.');
    setError(null);
    setConfirm(null);
    try {
      const j = await api.startJob({ kind: 'export', outPath: out, size, crf: q, audio, overwrite, ...(propagateFirst ? { propagateFirst } : {}) });
      setJobId(j.id);
      setChained(propagateFirst);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'OUTPUT_EXISTS' && !overwrite) {
        setConfirm({ name: baseName(out), finding: finding(err instanceof Error ? err.message : String(err)), propagateFirst });
        return;
      }
      await services.run(Promise.reject(err));
    }
  };

  return (
    <Modal title="Export video" onClose={onClose}>
      <div className="export-form">
        <label className="field">
          Output file
          <input
            id="export-path"
            value={outPath}
            onChange={(e) => {
              setOutPath(e.target.value);
              setConfirm(null);
            }}
          />
        </label>
        <fieldset className="field" id="export-size">
          <legend>Size</legend>
          <label className="check">
            <input type="radio" name="export-size" value="source" checked={size === 'source'} onChange={() => setSize('source')} />
            Source resolution, {sourceSize.width}×{sourceSize.height} (renders upscaled, guided by the source)
          </label>
          <label className="check">
            <input type="radio" name="export-size" value="working" checked={size === 'working'} onChange={() => setSize('working')} />
            Working size, {project.working.width}×{project.working.height} (as rendered)
          </label>
        </fieldset>
        <label className="field">
          Quality (CRF, 0 = lossless, 18 ≈ visually lossless, 51 = worst)
          <input id="export-crf" inputMode="numeric" value={crf} onChange={(e) => setCrf(e.target.value)} />
        </label>
        <label className="field check">
          <input id="export-audio" type="checkbox" checked={audio} disabled={!project.source.hasAudio} onChange={(e) => setAudio(e.target.checked)} />
          Include the source audio{!project.source.hasAudio && ' (the source has none)'}
        </label>
        {error && <p className="field-error">{error}</p>}
        {confirm && (
          <div className="reason" role="alertdialog" aria-label={`Replace ${confirm.name}?`} data-testid="export-confirm">
            <strong>Replace {confirm.name}?</strong>
            {'\n'}
            {confirm.finding}. Replacing it loses what it holds now.
            <div className="button-row end">
              <button onClick={() => setConfirm(null)} autoFocus>
                Cancel
              </button>
              <button className="primary" onClick={() => void start(true, confirm.propagateFirst)} data-testid="export-replace">
                Replace
              </button>
            </div>
          </div>
        )}
        {ready.needsWarning && !busy && confirm === null && (
          <div className="export-warning" role="alert" data-testid="export-warning">
            <strong>Not every frame is up to date</strong>
            <ul>
              {ready.lines.map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
            {ready.propagation === null && ready.anyway && <p className="muted small">{ready.anyway}</p>}
            <div className="button-row end">
              {ready.propagation === null && (
                <button onClick={() => void start()} data-testid="export-anyway">
                  Export anyway
                </button>
              )}
              <button
                className="primary"
                onClick={() => void start(false, true)}
                disabled={ready.propagation === null && !canPropagate}
                title={ready.propagation === null && !canPropagate ? 'Import or translate a key frame first: there is nothing to propagate.' : undefined}
                data-testid="export-propagate-first"
              >
                {ready.propagation ? 'Export when the propagation finishes' : 'Propagate first, then export'}
              </button>
            </div>
          </div>
        )}
        {(job || waitingFor) && (
          <ul className="jobs">
            {waitingFor && <JobRow job={waitingFor} onCancel={() => void services.run(api.cancelJob(waitingFor.id))} />}
            {job && <JobRow job={job} onCancel={() => void services.run(api.cancelJob(job.id))} />}
          </ul>
        )}
        {job?.status === 'done' && browser && (
          <div className="export-result" data-testid="export-result">
            <video className="export-player" controls preload="metadata" src={exportDownloadUrl(job.id)} data-testid="export-player" />
            <a className="button primary" href={exportDownloadUrl(job.id, true)} download={baseName(job.output ?? outPath)} data-testid="export-download">
              Download {baseName(job.output ?? outPath)}
            </a>
            {showPath && (
              <p className="muted small" data-testid="export-path-shown">
                Saved on the computer running Rerender Studio as <code>{job.output ?? outPath.trim()}</code>
              </p>
            )}
          </div>
        )}
        <div className="button-row end">
          {job?.status === 'done' && (
            // In a browser the file manager is out of reach: say where the file is instead.
            <button
              onClick={() => (browser ? setShowPath(true) : void services.run(api.revealFile(job.output ?? outPath.trim())))}
              data-testid="reveal-file"
            >
              {browser ? 'Where is it?' : 'Reveal file'}
            </button>
          )}
          <button onClick={onClose}>Close</button>
          {(!ready.needsWarning || busy) && (
            <button className="primary" onClick={() => void start()} disabled={confirm !== null || busy || ready.propagation !== null} title={ready.propagation ? 'A propagation is running: export when it finishes.' : undefined}>
              {job ? 'Export again' : 'Export'}
            </button>
          )}
        </div>
      </div>
    </Modal>
  );
}
