// Electron main entry (dist/src-main/app/main.js). Everything testable lives in shell.ts; this
// file only loads electron and the build's paths.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ElectronMainLike } from './electron-types.ts';
import { registerScheme, startShell } from './shell.ts';

// A variable specifier: the optional `electron` package is only present in the packaged app.
const ELECTRON = 'electron';
const mod = (await import(ELECTRON)) as { default?: ElectronMainLike } & ElectronMainLike;
const electron: ElectronMainLike = mod.default ?? mod;

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/src-main/app
const dist = path.resolve(here, '..', '..');
electron.app.setName('Rerender Studio');
registerScheme(electron);
await startShell(
  electron,
  {
    rendererDir: path.join(dist, 'renderer'),
    preloadPath: path.join(dist, 'preload', 'preload.cjs'),
    servicesEntry: path.join(here, 'services-process.js'),
  },
  process.platform,
);
