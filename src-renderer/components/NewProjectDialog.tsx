// A video dropped on the editor: ask before replacing the open project with a new one made
// from it (the open project is saved as it is; nothing is lost by switching). The working size it
// would get, and what that crops away, show before the artist says yes.
import { useState } from 'react';
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import { ProjectPlanInfo } from './CropInfo.tsx';
import type { Services } from './App.tsx';
import { baseName, suggestProjectPath } from '../lib/file-browser.ts';
import { usePickFile } from './FilePicker.tsx';
import { Modal } from './Modal.tsx';

export function NewProjectDialog({ services, videoPath, current, onClose }: { services: Services; videoPath: string; current: ProjectSummary; onClose(): void }) {
  const pick = usePickFile();
  const [projectPath, setProjectPath] = useState(() => suggestProjectPath(videoPath));
  const [busy, setBusy] = useState(false);
  const create = async () => {
    if (!projectPath.trim()) return;
    setBusy(true);
    const p = await services.run(services.connection.api.createProject({ videoPath, projectPath: projectPath.trim() }));
    setBusy(false);
    if (p) {
      services.setProject(p);
      onClose();
    }
  };
  return (
    <Modal title="New project from this video?" onClose={onClose}>
      <div className="new-project-dialog" data-testid="new-project-dialog">
        <p>
          Start a new project from <strong>{baseName(videoPath)}</strong>? <span className="muted">{current.name} is saved and closes.</span>
        </p>
        <p className="muted small" title={videoPath}>
          {videoPath}
        </p>
        <ProjectPlanInfo api={services.connection.api} videoPath={videoPath} />
        <label htmlFor="drop-project-path">Save the new project as</label>
        <div className="path-row">
          <input id="drop-project-path" value={projectPath} spellCheck={false} onChange={(e) => setProjectPath(e.target.value)} />
          <button type="button" onClick={() => void services.run(pick('project', 'save', projectPath || undefined)).then((p) => p && setProjectPath(p))}>
            Browse…
          </button>
        </div>
        <div className="button-row end">
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={busy || !projectPath.trim()} onClick={() => void create()}>
            {busy ? 'Creating…' : 'Create project'}
          </button>
        </div>
      </div>
    </Modal>
  );
}
