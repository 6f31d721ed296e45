// Export: output path, quality (CRF), audio; then the job's progress and "reveal file".
import { useState } from 'react';
import type { JobInfo, ProjectSummary } from '../../src-main/api/contract.ts';
import type { Services } from './App.tsx';
import { JobRow } from './JobsPanel.tsx';
import { Modal } from './Modal.tsx';

function defaultOutput(projectPath: string): string {
  const m = /^(.*?)(\.[^./\\]+)?$/.exec(projectPath);
  return `${m?.[1] || projectPath}-rerendered.mp4`;
}

export function ExportDialog({ services, project, jobs, onClose }: { services: Services; project: ProjectSummary; jobs: JobInfo[]; onClose(): void }) {
  const { api } = services.connection;
  const saved = project.settings.export as { crf?: unknown; audio?: unknown } | undefined;
  const [outPath, setOutPath] = useState(defaultOutput(project.path));
  const [crf, setCrf] = useState(String(typeof saved?.crf === 'number' ? saved.crf : 18));
  const [audio, setAudio] = useState(project.source.hasAudio && saved?.audio !== false);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = jobs.find((j) => j.id === jobId) ?? null;

  const start = async () => {
    const q = Number(crf);
    if (!Number.isInteger(q) || q < 0 || q > 51) return setError('Quality (CRF) must be a whole number from 0 (lossless) to 51.');
    if (!outPath.trim()) return setError('Choose where to write the video.');
    setError(null);
    const j = await services.run(api.startJob({ kind: 'export', outPath: outPath.trim(), crf: q, audio }));
    if (j) setJobId(j.id);
  };

  return (
    <Modal title="Export video" onClose={onClose}>
      <div className="export-form">
        {project.renderedFrames < project.source.frameCount && (
          <p className="reason">
            {project.renderedFrames}/{project.source.frameCount} frames are rendered so far.
          </p>
        )}
        <label className="field">
          Output file
          <input id="export-path" value={outPath} onChange={(e) => setOutPath(e.target.value)} />
        </label>
        <label className="field">
          Quality (CRF, 0 = lossless, 18 ≈ visually lossless, 51 = worst)
          <input id="export-crf" inputMode="numeric" value={crf} onChange={(e) => setCrf(e.target.value)} />
        </label>
        <label className="field check">
          <input id="export-audio" type="checkbox" checked={audio} disabled={!project.source.hasAudio} onChange={(e) => setAudio(e.target.checked)} />
          Include the source audio{!project.source.hasAudio && ' (the source has none)'}
        </label>
        {error && <p className="field-error">{error}</p>}
        {job && (
          <ul className="jobs">
            <JobRow job={job} onCancel={() => void services.run(api.cancelJob(job.id))} />
          </ul>
        )}
        <div className="button-row end">
          {job?.status === 'done' && (
            <button onClick={() => void services.run(api.revealFile(job.output ?? outPath.trim()))} data-testid="reveal-file">
              Reveal file
            </button>
          )}
          <button onClick={onClose}>Close</button>
          <button className="primary" onClick={() => void start()} disabled={job !== null && (job.status === 'queued' || job.status === 'running')}>
            {job ? 'Export again' : 'Export'}
          </button>
        </div>
      </div>
    </Modal>
  );
}
