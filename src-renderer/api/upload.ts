// Browser mode: a dropped File has no path on the server's machine, so it is uploaded with
// `PUT /upload/<name>` and the server answers with the stored path. XMLHttpRequest, not fetch:
// only it reports upload progress.

export interface UploadProgress {
  done: number;
  total: number;
}

export function uploadFile(file: File, onProgress: (p: UploadProgress) => void, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/upload/${encodeURIComponent(file.name)}`);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress({ done: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      let body: { path?: unknown; code?: unknown; message?: unknown } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // A non-JSON answer (a proxy's error page): reported by status below.
      }
      if (xhr.status === 201 && typeof body.path === 'string') return resolve(body.path);
      const message = typeof body.message === 'string' ? body.message : `the upload failed (HTTP ${xhr.status})`;
      reject(Object.assign(new Error(message), { code: typeof body.code === 'string' ? body.code : 'UPLOAD_FAILED' }));
    };
    xhr.onerror = () => reject(Object.assign(new Error('the upload failed: lost the connection to the server'), { code: 'UPLOAD_FAILED' }));
    xhr.onabort = () => reject(Object.assign(new Error('the upload was cancelled'), { code: 'CANCELLED' }));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    onProgress({ done: 0, total: file.size });
    xhr.send(file);
  });
}
