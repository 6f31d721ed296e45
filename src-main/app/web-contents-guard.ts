// App-wide guards for every web contents Electron creates (the main window, and anything a
// compromised renderer might manage to open): no new windows, no navigation or redirect off the
// app origin, no <webview>. Registered on `web-contents-created` so nothing escapes by being new.
import { isAppUrl } from './app-origin.ts';
import type { ElectronMainLike, NavigationEventLike, WebContentsLike } from './electron-types.ts';

/** Target of a navigation event: `event.url` in current Electron, the (deprecated) second argument before. */
function targetOf(event: NavigationEventLike, url: string | undefined): string | undefined {
  return typeof event.url === 'string' ? event.url : url;
}

export function guardWebContents(contents: WebContentsLike): void {
  // The editor opens no windows; links to the web are not followed from inside the app.
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const stayOnOrigin = (event: NavigationEventLike, url?: string): void => {
    if (!isAppUrl(targetOf(event, url))) event.preventDefault();
  };
  contents.on('will-navigate', stayOnOrigin);
  contents.on('will-redirect', stayOnOrigin);
  // webviewTag is off in our windows; this also covers web contents created with other preferences.
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Must run before the first window is created. */
export function installWebContentsGuard(app: ElectronMainLike['app']): void {
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents));
}
