// Top level: connects to the services, keeps the project / capabilities / jobs in sync with the
// pushed events, and shows either the open screen or the editor.
import { useCallback, useEffect, useState } from 'react';
import type { Capabilities, JobInfo, ProjectSummary } from '../../src-main/api/contract.ts';
import type { Connection } from '../api/connect.ts';
import { upsertJob } from '../lib/jobs.ts';
import { errorToMessage, splitMessage, type ArtistMessage } from '../lib/messages.ts';
import { Message } from './Reason.tsx';
import { Editor } from './Editor.tsx';
import { FilePickerProvider } from './FilePicker.tsx';
import { NewProjectDialog } from './NewProjectDialog.tsx';
import { OpenProject } from './OpenProject.tsx';
import { VideoDrop } from './VideoDrop.tsx';

export interface Services {
  connection: Connection;
  /** Runs a request; on failure shows the message and resolves to undefined. */
  run<T>(request: Promise<T>): Promise<T | undefined>;
  setProject(p: ProjectSummary | null): void;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === 'string' && code !== 'INTERNAL' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

export function App({ connection }: { connection: Connection }) {
  const { api } = connection;
  const [project, setProject] = useState<ProjectSummary | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [caps, setCaps] = useState<Capabilities | null>(null);
  const [jobs, setJobs] = useState<JobInfo[]>([]);
  const [recent, setRecent] = useState<string[]>([]);
  const [errors, setErrors] = useState<Array<{ id: number; message: ArtistMessage }>>([]);
  const [disconnected, setDisconnected] = useState(false);
  /** A video dropped on the editor, waiting for the artist to confirm a new project. */
  const [droppedVideo, setDroppedVideo] = useState<string | null>(null);

  // One short line per problem; the technical part waits behind "details" (and the toast stays
  // longer when there is some to read).
  const showMessage = useCallback((message: ArtistMessage) => {
    const id = Date.now() + Math.random();
    setErrors((e) => [...e.slice(-3), { id, message }]);
    setTimeout(() => setErrors((e) => e.filter((x) => x.id !== id)), message.details ? 20000 : 9000);
  }, []);
  const showError = useCallback((text: string) => showMessage(splitMessage(text)), [showMessage]);

  const run = useCallback(
    async <T,>(request: Promise<T>): Promise<T | undefined> => {
      try {
        return await request;
      } catch (err) {
        showMessage(errorToMessage(err));
        return undefined;
      }
    },
    [showMessage],
  );

  useEffect(() => {
    const offProject = api.on('project', (p) => setProject(p));
    const offJob = api.on('job', (j) => setJobs((list) => upsertJob(list, j)));
    connection.onDisconnect(() => setDisconnected(true));
    void (async () => {
      const [c, p, j, r] = await Promise.all([run(api.capabilities()), run(api.project()), run(api.listJobs()), run(api.recentProjects())]);
      if (c) setCaps(c);
      if (p !== undefined) setProject(p);
      if (j) setJobs(j);
      if (r) setRecent(r);
      setLoaded(true);
    })();
    return () => {
      offProject();
      offJob();
    };
  }, [api, connection, run]);

  // Whether translation can run depends on the project's model settings: ask again whenever the
  // open project or its settings change.
  const settingsKey = project ? `${project.path}\n${JSON.stringify(project.settings)}` : null;
  useEffect(() => {
    if (settingsKey === null) return;
    let live = true;
    void run(api.capabilities()).then((c) => {
      if (live && c) setCaps(c);
    });
    return () => {
      live = false;
    };
  }, [api, run, settingsKey]);

  // The recent list changes whenever a project is opened or created.
  useEffect(() => {
    if (!project) void run(api.recentProjects()).then((r) => r && setRecent(r));
  }, [api, project, run]);

  const services: Services = { connection, run, setProject };

  return (
    <FilePickerProvider connection={connection}>
      <div className="app">
        {disconnected && <div className="banner banner-error">Lost the connection to the Rerender Studio server. Restart it and reload this page.</div>}
        {!loaded ? (
          <div className="loading">Connecting…</div>
        ) : project ? (
          <>
            <Editor key={project.path} services={services} project={project} capabilities={caps} jobs={jobs} />
            <VideoDrop connection={connection} hint="A new project is made from it (you are asked first)." onError={showError} onVideo={(p) => setDroppedVideo(p)} />
            {droppedVideo && <NewProjectDialog services={services} videoPath={droppedVideo} current={project} onClose={() => setDroppedVideo(null)} />}
          </>
        ) : (
          <OpenProject services={services} recent={recent} onError={showError} />
        )}
        <div className="toasts" role="status" aria-live="polite">
          {errors.map((e) => (
            <div key={e.id} className="toast toast-error" data-testid="error-toast">
              <Message message={e.message} className="toast-text" />
              <button className="toast-close" aria-label="Dismiss" onClick={() => setErrors((l) => l.filter((x) => x.id !== e.id))}>
                ×
              </button>
            </div>
          ))}
        </div>
      </div>
    </FilePickerProvider>
  );
}
