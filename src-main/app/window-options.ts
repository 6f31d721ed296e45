import type { WindowOptions } from './electron-types.ts';

/** The main window's options: the renderer is an untrusted web page with no Node access. */
export function createWindowOptions(preloadPath: string): WindowOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 640,
    title: 'Rerender Studio',
    backgroundColor: '#15171c',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}
