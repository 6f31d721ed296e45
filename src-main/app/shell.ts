// Wires the Electron shell: one sandboxed window on the `rerender://` scheme, the services host
// in a utility process, and main in between only forwarding (validated requests, media reads,
// events). Takes the electron module as a parameter so tests drive it with a fake.
import path from 'node:path';
import { IPC_CHANNEL, IPC_EVENT_CHANNEL, type FileFilter, type ProjectSummary } from '../api/contract.ts';
import { APP_ENTRY_URL, APP_SCHEME, isAppUrl } from './app-origin.ts';
import type { BrowserWindowLike, ElectronMainLike } from './electron-types.ts';
import { createRequestHandler } from './ipc-guard.ts';
import { buildMenuTemplate } from './menu.ts';
import { createProtocolHandler } from './protocol-handler.ts';
import { createServicesClient, type ServicesClient } from './services-messages.ts';
import { createWindowOptions } from './window-options.ts';
import { installPermissionHandlers } from './permissions.ts';
import { installWebContentsGuard } from './web-contents-guard.ts';
import { pickFileNative } from './pick-file.ts';

export interface ShellPaths {
  /** dist/renderer (index.html and assets). */
  rendererDir: string;
  /** The bundled CommonJS preload. */
  preloadPath: string;
  /** The services utility-process entry (services-process.js). */
  servicesEntry: string;
}

export interface Shell {
  services: ServicesClient;
  window(): BrowserWindowLike | null;
}

/** Must run before the app's `ready` event. */
export function registerScheme(electron: ElectronMainLike): void {
  electron.protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true } },
  ]);
}

const PROJECT_FILTERS = [
  { name: 'Rerender project', extensions: ['rrproj'] },
  { name: 'All files', extensions: ['*'] },
];
const VIDEO_FILTERS = [
  { name: 'Video', extensions: ['mp4', 'mov', 'mkv', 'webm', 'avi', 'm4v'] },
  { name: 'All files', extensions: ['*'] },
];

export async function startShell(electron: ElectronMainLike, paths: ShellPaths, platform: NodeJS.Platform): Promise<Shell> {
  const { app, BrowserWindow, ipcMain, protocol, Menu, utilityProcess, dialog, shell } = electron;
  // Before any window exists: every web contents gets the navigation guard as it is created.
  installWebContentsGuard(app);
  await app.whenReady();
  installPermissionHandlers(electron.session.defaultSession);

  const child = utilityProcess.fork(paths.servicesEntry, [], {
    serviceName: 'Rerender Studio services',
    env: { ...process.env, RERENDER_DATA_DIR: app.getPath('userData') },
  });
  const services = createServicesClient(child);
  child.on('exit', (code: number) => services.fail(`the services process exited (code ${code})`));
  app.on('before-quit', () => child.kill());

  protocol.handle(APP_SCHEME, createProtocolHandler({ rendererDir: paths.rendererDir, media: (route, req) => services.media(route, req) }));

  let win: BrowserWindowLike | null = null;
  const broadcast = (event: string, payload: unknown) => {
    for (const w of BrowserWindow.getAllWindows()) {
      if (!w.isDestroyed() && !w.webContents.isDestroyed()) w.webContents.send(IPC_EVENT_CHANNEL, { event, payload });
    }
  };
  services.onEvent(broadcast);

  ipcMain.handle(
    IPC_CHANNEL,
    createRequestHandler({
      isTrustedUrl: isAppUrl,
      forward: async (name, args) => {
        // Revealing a file is a desktop action: main does it, the services never see it.
        if (name === 'revealFile') {
          shell.showItemInFolder(String(args[0]));
          return undefined;
        }
        // So is a native file dialog; the guard has already validated the arguments.
        if (name === 'pickFile') {
          const [filter, mode, suggested] = args as [FileFilter, 'open' | 'save', string | undefined];
          return pickFileNative(dialog, platform, filter, mode, suggested);
        }
        const value = await services.call(name, args);
        if (name === 'createProject' || name === 'openProject') void refreshMenu();
        return value;
      },
    }),
  );

  const reportError = (err: unknown) => dialog.showErrorBox('Rerender Studio', err instanceof Error ? err.message : String(err));
  const openPath = async (projectPath: string) => {
    try {
      broadcast('project', (await services.call('openProject', [projectPath])) as ProjectSummary);
      await refreshMenu();
    } catch (err) {
      reportError(err);
    }
  };
  const actions = {
    async newProject() {
      const video = await dialog.showOpenDialog({ title: 'Choose a video', properties: ['openFile'], filters: VIDEO_FILTERS });
      const videoPath = video.filePaths[0];
      if (video.canceled || !videoPath) return;
      const parsed = path.parse(videoPath);
      const target = await dialog.showSaveDialog({
        title: 'Save the project as',
        defaultPath: path.join(parsed.dir, `${parsed.name}.rrproj`),
        filters: PROJECT_FILTERS,
      });
      if (target.canceled || !target.filePath) return;
      try {
        broadcast('project', (await services.call('createProject', [{ videoPath, projectPath: target.filePath }])) as ProjectSummary);
        await refreshMenu();
      } catch (err) {
        reportError(err);
      }
    },
    async openProject() {
      const picked = await dialog.showOpenDialog({ title: 'Open a project', properties: ['openFile'], filters: PROJECT_FILTERS });
      const p = picked.filePaths[0];
      if (!picked.canceled && p) await openPath(p);
    },
    openRecent: (p: string) => void openPath(p),
    sendKey(keyCode: string, modifiers: string[]) {
      if (!win || win.isDestroyed()) return;
      win.webContents.sendInputEvent({ type: 'keyDown', keyCode, modifiers });
      win.webContents.sendInputEvent({ type: 'char', keyCode, modifiers });
      win.webContents.sendInputEvent({ type: 'keyUp', keyCode, modifiers });
    },
  };
  async function refreshMenu(): Promise<void> {
    let recent: string[] = [];
    try {
      recent = (await services.call('recentProjects', [])) as string[];
    } catch {
      // The menu still works without the recent list.
    }
    const template = buildMenuTemplate(
      { newProject: () => void actions.newProject(), openProject: () => void actions.openProject(), openRecent: actions.openRecent, sendKey: actions.sendKey },
      recent,
      platform === 'darwin',
    );
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  }
  await refreshMenu();

  const createWindow = () => {
    win = new BrowserWindow(createWindowOptions(paths.preloadPath));
    const w = win; // window.open, navigation and <webview> are guarded app-wide (web-contents-guard.ts)
    w.once('ready-to-show', () => w.show());
    w.on('closed', () => {
      if (win === w) win = null;
    });
    void w.loadURL(APP_ENTRY_URL);
  };
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('window-all-closed', () => {
    if (platform !== 'darwin') app.quit();
  });
  return { services, window: () => win };
}
