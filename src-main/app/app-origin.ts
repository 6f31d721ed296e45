// Where the shell loads its UI from and serves media: one privileged custom scheme, so the
// renderer has a real origin (not file://) that the IPC sender check can pin.

export const APP_SCHEME = 'rerender';
export const APP_HOST = 'app';
export const MEDIA_HOST = 'media';
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** True when `url` belongs to our app (scheme and host both match); Node's URL gives custom schemes an opaque origin, so compare the parts. */
export function isAppUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
}
