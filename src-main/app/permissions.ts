// Web permissions (camera, microphone, notifications, geolocation, HID/USB/serial, ...): Electron
// grants most of them by default, and the editor needs none. Everything is denied except writing
// plain text to the clipboard from our own page (harmless, and what a "Copy" button uses).
import { isAppUrl } from './app-origin.ts';
import type { PermissionDetailsLike, SessionLike } from './electron-types.ts';

const ALLOWED_FROM_APP: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

/** Whether `permission` may be granted to a page at `url` (a URL or an origin). */
export function isPermissionAllowed(permission: string, url: string | undefined): boolean {
  return ALLOWED_FROM_APP.has(permission) && isAppUrl(url);
}

function requester(details: PermissionDetailsLike | undefined, fallback?: string): string | undefined {
  return typeof details?.requestingUrl === 'string' ? details.requestingUrl : fallback;
}

export function installPermissionHandlers(session: SessionLike): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(isPermissionAllowed(permission, requester(details)));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) =>
    isPermissionAllowed(permission, requester(details, requestingOrigin)));
  session.setDevicePermissionHandler(() => false);
}
