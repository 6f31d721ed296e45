// Dropping a video anywhere on the window: an overlay while dragging, then the file's path for
// the services (its own path in Electron; an upload with a progress bar in browser mode).
import { useEffect, useRef, useState } from 'react';
import type { Connection } from '../api/connect.ts';
import type { UploadProgress } from '../api/upload.ts';
import { formatSize } from '../lib/file-browser.ts';
import { chooseDroppedVideo, dragDepth, percent } from '../lib/file-drop.ts';

export interface VideoDropProps {
  connection: Connection;
  /** What a drop does, for the overlay ("Drop to start a new project"). */
  hint: string;
  onVideo(path: string, name: string): void;
  onError(message: string): void;
}

function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}

export function VideoDrop({ connection, hint, onVideo, onError }: VideoDropProps) {
  const [dragging, setDragging] = useState(false);
  const [upload, setUpload] = useState<{ name: string; progress: UploadProgress; abort: AbortController } | null>(null);
  const depth = useRef(0);
  const latest = useRef({ connection, onVideo, onError, busy: false });
  latest.current = { connection, onVideo, onError, busy: upload !== null };

  useEffect(() => {
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current = dragDepth(depth.current, 'enter');
      setDragging(true);
    };
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      // Without preventDefault here the browser opens the file instead of dropping it on us.
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth.current = dragDepth(depth.current, 'leave');
      if (depth.current === 0) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current = dragDepth(depth.current, 'drop');
      setDragging(false);
      const { connection: conn, onVideo: done, onError: fail, busy } = latest.current;
      if (busy) return fail('An upload is already running: wait for it or cancel it.');
      const choice = chooseDroppedVideo(Array.from(e.dataTransfer?.files ?? []));
      if (!choice.ok) return fail(choice.error);
      const file = choice.file;
      const abort = new AbortController();
      if (conn.mode === 'browser') setUpload({ name: file.name, progress: { done: 0, total: file.size }, abort });
      conn
        .fileToPath(file, (progress) => setUpload((u) => (u ? { ...u, progress } : u)), abort.signal)
        .then(
          (path) => done(path, file.name),
          (err: unknown) => {
            if ((err as { code?: unknown }).code !== 'CANCELLED') fail(err instanceof Error ? err.message : String(err));
          },
        )
        .finally(() => setUpload(null));
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);

  return (
    <>
      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay" aria-live="polite">
          <div className="drop-card">
            <div className="drop-icon" aria-hidden="true">
              ⤓
            </div>
            <strong>Drop the video here</strong>
            <span className="muted">{hint}</span>
          </div>
        </div>
      )}
      {upload && (
        <div className="upload-panel" role="status" data-testid="upload-progress">
          <span>
            Uploading <strong>{upload.name}</strong> — {percent(upload.progress.done, upload.progress.total)}% ({formatSize(upload.progress.done)} of{' '}
            {formatSize(upload.progress.total)})
          </span>
          <progress max={100} value={percent(upload.progress.done, upload.progress.total)} />
          <button className="small" onClick={() => upload.abort.abort()}>
            Cancel
          </button>
        </div>
      )}
    </>
  );
}
