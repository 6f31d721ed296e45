// The start screen: create a project from a video (typed, browsed or dropped on the window), or
// open an existing one (browsed, typed, or from the recent list).
import { useState, type FormEvent } from 'react';
import type { Services } from './App.tsx';
import { baseName, suggestProjectPath } from '../lib/file-browser.ts';
import { usePickFile } from './FilePicker.tsx';
import { VideoDrop } from './VideoDrop.tsx';
import { ProjectPlanInfo } from './CropInfo.tsx';
import { nameMatchesFilter } from '../../src-main/api/contract.ts';

/** The working short side typed, when it is one the services take (64..4096); else undefined. */
function plannedSide(text: string): number | undefined {
  const side = Number(text.trim());
  return text.trim() !== '' && Number.isInteger(side) && side >= 64 && side <= 4096 ? side : undefined;
}

export function OpenProject({ services, recent, onError }: { services: Services; recent: string[]; onError(message: string): void }) {
  const { api } = services.connection;
  const pick = usePickFile();
  const [videoPath, setVideoPath] = useState('');
  const [projectPath, setProjectPath] = useState('');
  const [projectTouched, setProjectTouched] = useState(false);
  const [shortSide, setShortSide] = useState('');
  const [openPath, setOpenPath] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setFormError(null);
    const side = shortSide.trim() === '' ? undefined : Number(shortSide);
    if (side !== undefined && plannedSide(shortSide) === undefined) {
      setFormError('Working short side must be a whole number between 64 and 4096 (or empty for the default).');
      return;
    }
    if (!videoPath.trim() || !projectPath.trim()) {
      setFormError('Give both the video path and where to save the project.');
      return;
    }
    setBusy('Creating the project (reading the video)…');
    const p = await services.run(
      api.createProject({ videoPath: videoPath.trim(), projectPath: projectPath.trim(), ...(side !== undefined ? { shortSide: side } : {}) }),
    );
    setBusy(null);
    if (p) services.setProject(p);
  };

  const chooseVideo = (path: string) => {
    setVideoPath(path);
    if (!projectTouched) setProjectPath(suggestProjectPath(path));
  };
  const browse = async (request: Promise<string | null>, apply: (path: string) => void) => {
    const path = await services.run(request);
    if (path) apply(path);
  };

  const open = async (path: string) => {
    if (!path.trim()) return;
    setBusy(`Opening ${baseName(path)}…`);
    const p = await services.run(api.openProject(path.trim()));
    setBusy(null);
    if (p) services.setProject(p);
  };

  return (
    <div className="open-screen">
      <div className="open-card">
        <h1>Rerender Studio</h1>
        <p className="subtitle">Re-render a video from a few edited key frames.</p>
        <form className="open-form" onSubmit={create} aria-label="New project">
          <h2>New project</h2>
          <label htmlFor="video-path">Video file</label>
          <div className="path-row">
            <input
              id="video-path"
              placeholder="/path/to/clip.mp4 — or drop a video on this window"
              value={videoPath}
              onChange={(e) => {
                setVideoPath(e.target.value);
                if (!projectTouched) setProjectPath(suggestProjectPath(e.target.value));
              }}
            />
            <button type="button" aria-label="Browse for the video" onClick={() => void browse(pick('video', 'open', videoPath || undefined), chooseVideo)}>
              Browse…
            </button>
          </div>
          <label htmlFor="project-path">Save project as</label>
          <div className="path-row">
            <input
              id="project-path"
              placeholder="/path/to/clip.rrproj"
              value={projectPath}
              onChange={(e) => {
                setProjectTouched(true);
                setProjectPath(e.target.value);
              }}
            />
            <button
              type="button"
              aria-label="Browse for where to save the project"
              onClick={() =>
                void browse(pick('project', 'save', projectPath || suggestProjectPath(videoPath) || undefined), (p) => {
                  setProjectTouched(true);
                  setProjectPath(p);
                })
              }
            >
              Browse…
            </button>
          </div>
          <label>
            Working short side (px, optional)
            <input id="short-side" inputMode="numeric" placeholder="default" value={shortSide} onChange={(e) => setShortSide(e.target.value)} />
          </label>
          {/* The working size and what it crops, once the path names a video (not on every keystroke of a folder). */}
          {nameMatchesFilter(videoPath.trim(), 'video') && (
            <ProjectPlanInfo api={api} videoPath={videoPath.trim()} shortSide={plannedSide(shortSide)} />
          )}
          {notice && (
            <p className="notice" data-testid="drop-notice">
              {notice}
            </p>
          )}
          {formError && <p className="field-error">{formError}</p>}
          <button type="submit" className="primary" disabled={busy !== null}>
            Create project
          </button>
        </form>
        <form
          className="open-form"
          aria-label="Open project"
          onSubmit={(e) => {
            e.preventDefault();
            void open(openPath);
          }}
        >
          <h2>Open a project</h2>
          <label htmlFor="open-path">Project file</label>
          <div className="path-row">
            <input id="open-path" placeholder="/path/to/clip.rrproj" value={openPath} onChange={(e) => setOpenPath(e.target.value)} />
            <button
              type="button"
              aria-label="Browse for a project to open"
              onClick={() =>
                void browse(pick('project', 'open', openPath || undefined), (p) => {
                  setOpenPath(p);
                  void open(p);
                })
              }
            >
              Browse…
            </button>
          </div>
          <button type="submit" disabled={busy !== null || !openPath.trim()}>
            Open
          </button>
        </form>
        <section className="recent">
          <h2>Recent projects</h2>
          {recent.length === 0 ? (
            <p className="muted">None yet.</p>
          ) : (
            <ul>
              {recent.map((p) => (
                <li key={p}>
                  <button className="link" onClick={() => void open(p)} disabled={busy !== null} title={p}>
                    <span className="recent-name">{baseName(p)}</span>
                    <span className="recent-path">{p}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
        {busy && <p className="busy">{busy}</p>}
      </div>
      <VideoDrop
        connection={services.connection}
        hint="It becomes the video of a new project."
        onError={onError}
        onVideo={(path, name) => {
          chooseVideo(path);
          setNotice(`${name} is ready: check where to save the project, then press Create project.`);
        }}
      />
    </div>
  );
}
