// The few shapes of Electron's API that the shell uses. `electron` is an optional dependency
// (its binary cannot always be installed), so the shell's logic is written against these
// structural types and receives the real module (or a test fake) as a parameter.

export interface WebPreferences {
  preload: string;
  contextIsolation: boolean;
  sandbox: boolean;
  nodeIntegration: boolean;
  nodeIntegrationInWorker: boolean;
  webSecurity: boolean;
  allowRunningInsecureContent: boolean;
  webviewTag: boolean;
  spellcheck: boolean;
}

export interface WindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  title: string;
  backgroundColor: string;
  show: boolean;
  webPreferences: WebPreferences;
}

export interface WebFrameLike {
  url: string;
}

export interface InvokeEventLike {
  senderFrame: WebFrameLike | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export interface ContextBridgeLike {
  exposeInMainWorld(key: string, api: unknown): void;
}

export interface InputEventLike {
  type: 'keyDown' | 'keyUp' | 'char';
  keyCode: string;
  modifiers?: string[];
}

/** A cancellable navigation event; Electron 45 puts the target on `event.url` (the `url` argument is deprecated). */
export interface NavigationEventLike {
  preventDefault(): void;
  url?: string;
}

export interface WebContentsLike {
  send(channel: string, ...args: unknown[]): void;
  sendInputEvent(event: InputEventLike): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void;
  on(event: 'will-navigate' | 'will-redirect', listener: (event: NavigationEventLike, url?: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }, webPreferences: unknown, params: unknown) => void): unknown;
  isDestroyed(): boolean;
}

/** What a permission request says about its requester (Electron's `PermissionRequest` / check details). */
export interface PermissionDetailsLike {
  requestingUrl?: string;
  isMainFrame?: boolean;
}

export interface SessionLike {
  setPermissionRequestHandler(
    handler: ((webContents: unknown, permission: string, callback: (granted: boolean) => void, details: PermissionDetailsLike) => void) | null,
  ): void;
  setPermissionCheckHandler(
    handler: ((webContents: unknown, permission: string, requestingOrigin: string, details: PermissionDetailsLike) => boolean) | null,
  ): void;
  /** WebHID / WebSerial / WebUSB device access. */
  setDevicePermissionHandler(handler: ((details: { deviceType?: string; origin?: string }) => boolean) | null): void;
}

export interface BrowserWindowLike {
  webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
  show(): void;
  isDestroyed(): boolean;
}

export interface MenuItemTemplate {
  label?: string;
  role?: string;
  type?: 'separator' | 'submenu' | 'normal';
  accelerator?: string;
  registerAccelerator?: boolean;
  enabled?: boolean;
  click?: () => void;
  submenu?: MenuItemTemplate[];
}

/** A message port of Electron's utility process (`UtilityProcess` in main, `process.parentPort` in the child). */
export interface MessagePortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

export interface UtilityProcessLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

export interface ProtocolLike {
  registerSchemesAsPrivileged(schemes: Array<{ scheme: string; privileges: Record<string, boolean> }>): void;
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void;
}

export interface OpenDialogResult {
  canceled: boolean;
  filePaths: string[];
}

export interface SaveDialogResult {
  canceled: boolean;
  filePath?: string;
}

export interface ElectronMainLike {
  app: {
    whenReady(): Promise<void>;
    getPath(name: 'userData'): string;
    on(event: 'window-all-closed' | 'activate' | 'before-quit', listener: () => void): unknown;
    on(event: 'web-contents-created', listener: (event: unknown, contents: WebContentsLike) => void): unknown;
    quit(): void;
    setName(name: string): void;
  };
  BrowserWindow: (new (options: WindowOptions) => BrowserWindowLike) & { getAllWindows(): BrowserWindowLike[] };
  session: { defaultSession: SessionLike };
  ipcMain: IpcMainLike;
  protocol: ProtocolLike;
  Menu: {
    buildFromTemplate(template: MenuItemTemplate[]): unknown;
    setApplicationMenu(menu: unknown): void;
  };
  utilityProcess: {
    fork(modulePath: string, args?: string[], options?: { serviceName?: string; env?: Record<string, string | undefined>; stdio?: 'inherit' | 'pipe' | 'ignore' }): UtilityProcessLike;
  };
  dialog: {
    showOpenDialog(options: { title?: string; defaultPath?: string; properties: string[]; filters?: Array<{ name: string; extensions: string[] }> }): Promise<OpenDialogResult>;
    showSaveDialog(options: { title?: string; defaultPath?: string; filters?: Array<{ name: string; extensions: string[] }> }): Promise<SaveDialogResult>;
    showErrorBox(title: string, content: string): void;
  };
  shell: {
    showItemInFolder(path: string): void;
    openExternal(url: string): Promise<void>;
  };
}

/** Electron's `webUtils` (preload side): the path behind a File the user dropped or picked. */
export interface WebUtilsLike {
  getPathForFile(file: unknown): string;
}

export interface ElectronPreloadLike {
  contextBridge: ContextBridgeLike;
  ipcRenderer: IpcRendererLike;
  webUtils?: WebUtilsLike;
}
