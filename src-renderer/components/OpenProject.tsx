// The start screen: create a project from a video, or open an existing one (recent list).
import { useState, type FormEvent } from 'react';
import type { Services } from './App.tsx';

function suggestProjectPath(videoPath: string): string {
  const m = /^(.*?)(\.[^./\\]+)?$/.exec(videoPath.trim());
  return m && m[1] ? `${m[1]}.rrproj` : '';
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

export function OpenProject({ services, recent }: { services: Services; recent: string[] }) {
  const { api } = services.connection;
  const [videoPath, setVideoPath] = useState('');
  const [projectPath, setProjectPath] = useState('');
  const [projectTouched, setProjectTouched] = useState(false);
  const [shortSide, setShortSide] = useState('');
  const [openPath, setOpenPath] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setFormError(null);
    const side = shortSide.trim() === '' ? undefined : Number(shortSide);
    if (side !== undefined && (!Number.isInteger(side) || side < 64 || side > 4096)) {
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
          <label>
            Video file
            <input
              id="video-path"
              placeholder="/path/to/clip.mp4"
              value={videoPath}
              onChange={(e) => {
                setVideoPath(e.target.value);
                if (!projectTouched) setProjectPath(suggestProjectPath(e.target.value));
              }}
            />
          </label>
          <label>
            Save project as
            <input
              id="project-path"
              placeholder="/path/to/clip.rrproj"
              value={projectPath}
              onChange={(e) => {
                setProjectTouched(true);
                setProjectPath(e.target.value);
              }}
            />
          </label>
          <label>
            Working short side (px, optional)
            <input id="short-side" inputMode="numeric" placeholder="default" value={shortSide} onChange={(e) => setShortSide(e.target.value)} />
          </label>
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
          <label>
            Project file
            <input id="open-path" placeholder="/path/to/clip.rrproj" value={openPath} onChange={(e) => setOpenPath(e.target.value)} />
          </label>
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
    </div>
  );
}
