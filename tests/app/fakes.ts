// Test doubles for the shell: a services host that records calls, a linked pair of message
// ports, and a fake of the electron main-process module.
import { EventEmitter } from 'node:events';
import type { EventName } from '../../src-main/api/contract.ts';
import type {
  BrowserWindowLike,
  ElectronMainLike,
  InvokeEventLike,
  MenuItemTemplate,
  MessagePortLike,
  NavigationEventLike,
  SessionLike,
  WindowOptions,
} from '../../src-main/app/electron-types.ts';
import { serveHost } from '../../src-main/app/services-messages.ts';

export class FakeHost {
  calls: Array<{ name: string; args: unknown[] }> = [];
  mediaCalls: Array<{ route: string; req: { range?: string; ifNoneMatch?: string } }> = [];
  disposed = false;
  private events = new EventEmitter();
  api = {
    on: (event: EventName, listener: (payload: never) => void) => {
      const l = listener as (...args: unknown[]) => void;
      this.events.on(event, l);
      return () => void this.events.off(event, l);
    },
  };
  emit(event: EventName, payload: unknown): void {
    this.events.emit(event, payload);
  }
  listenerCount(event: EventName): number {
    return this.events.listenerCount(event);
  }
  async call(name: string, args: unknown[]): Promise<unknown> {
    this.calls.push({ name, args });
    if (name === 'openProject') {
      const err = new Error(`no project at ${String(args[0])}`) as Error & { code: string };
      err.code = 'PROJECT_NOT_FOUND';
      throw err;
    }
    if (name === 'recentProjects') return ['/tmp/a.rrproj'];
    if (name === 'importKeyframeImage') {
      const bytes = args[1] as Uint8Array;
      return { frame: args[0], byteLength: bytes.length, first: bytes[0], isBytes: bytes instanceof Uint8Array };
    }
    return { echoed: name, args };
  }
  async media(route: string, req: { range?: string; ifNoneMatch?: string }): Promise<{ status: number; headers: Record<string, string>; body: Uint8Array | null }> {
    this.mediaCalls.push({ route, req });
    const full = new Uint8Array([137, 80, 78, 71, 1, 2, 3, 4, 5, 6]);
    if (route !== 'frame/source/3.png') return { status: 404, headers: { 'content-type': 'text/plain' }, body: new TextEncoder().encode('no such frame') };
    if (req.ifNoneMatch === '"v1"') return { status: 304, headers: { etag: '"v1"' }, body: null };
    const m = req.range ? /bytes=(\d+)-(\d+)/.exec(req.range) : null;
    if (m) {
      const a = Number(m[1]);
      const b = Number(m[2]);
      return {
        status: 206,
        headers: { 'content-type': 'image/png', 'content-range': `bytes ${a}-${b}/${full.length}`, etag: '"v1"' },
        body: full.subarray(a, b + 1),
      };
    }
    return { status: 200, headers: { 'content-type': 'image/png', etag: '"v1"', 'accept-ranges': 'bytes' }, body: full };
  }
  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

/** Two message ports wired to each other (messages delivered asynchronously, like the real ones). */
export function portPair(): [MessagePortLike, MessagePortLike] {
  const a = new EventEmitter();
  const b = new EventEmitter();
  const mk = (self: EventEmitter, other: EventEmitter, wrap: boolean): MessagePortLike => ({
    postMessage: (m: unknown) => void setImmediate(() => other.emit('message', wrap ? { data: structuredClone(m) } : structuredClone(m))),
    on: (_e: 'message', l: (m: unknown) => void) => self.on('message', l),
  });
  // Main's side receives values; the child's parentPort receives MessageEvents ({ data }).
  return [mk(a, b, true), mk(b, a, false)];
}

type Listener = (...args: unknown[]) => void;

/** A web contents that records every listener and handler the shell installs on it. */
export class FakeWebContents {
  listeners = new Map<string, Listener[]>();
  openHandler: ((d: { url: string }) => { action: 'deny' | 'allow' }) | null = null;
  sent: Array<{ channel: string; args: unknown[] }>;
  inputs: unknown[];
  constructor(sent: Array<{ channel: string; args: unknown[] }> = [], inputs: unknown[] = []) {
    this.sent = sent;
    this.inputs = inputs;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  sendInputEvent(e: unknown): void {
    this.inputs.push(e);
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' | 'allow' }): void {
    this.openHandler = h;
  }
  on(event: 'will-navigate' | 'will-redirect', listener: (event: NavigationEventLike, url?: string) => void): this;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }, webPreferences: unknown, params: unknown) => void): this;
  on(event: string, listener: (...args: never[]) => void): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener as Listener]);
    return this;
  }
  isDestroyed(): boolean {
    return false;
  }
  /** Emits `event` as Electron 45 does (target on event.url, and as the deprecated second argument); true when a listener prevented it. */
  fire(event: 'will-navigate' | 'will-redirect', url: string): boolean;
  fire(event: 'will-attach-webview', webPreferences: unknown, params: unknown): boolean;
  fire(event: string, ...args: unknown[]): boolean {
    let prevented = false;
    const e = { preventDefault: () => void (prevented = true), ...(event === 'will-attach-webview' ? {} : { url: args[0] }) };
    for (const l of this.listeners.get(event) ?? []) l(e, ...args);
    return prevented;
  }
}

export class FakeWindow extends EventEmitter implements BrowserWindowLike {
  static all: FakeWindow[] = [];
  /** Set by fakeElectron: Electron emits app `web-contents-created` while a window is constructed. */
  static onContentsCreated: ((contents: FakeWebContents) => void) | null = null;
  static getAllWindows(): BrowserWindowLike[] {
    return FakeWindow.all;
  }
  loaded: string[] = [];
  sent: Array<{ channel: string; args: unknown[] }> = [];
  inputs: unknown[] = [];
  readonly options: WindowOptions;
  readonly webContents: FakeWebContents;
  constructor(options: WindowOptions) {
    super();
    this.options = options;
    this.webContents = new FakeWebContents(this.sent, this.inputs);
    FakeWindow.all.push(this);
    FakeWindow.onContentsCreated?.(this.webContents);
  }
  async loadURL(url: string): Promise<void> {
    this.loaded.push(url);
  }
  show(): void {}
  isDestroyed(): boolean {
    return false;
  }
}

/** The default session's handlers, as the shell installed them. */
export interface FakeSession extends SessionLike {
  requestHandler: Parameters<SessionLike['setPermissionRequestHandler']>[0];
  checkHandler: Parameters<SessionLike['setPermissionCheckHandler']>[0];
  deviceHandler: Parameters<SessionLike['setDevicePermissionHandler']>[0];
}

function fakeSession(): FakeSession {
  const s: FakeSession = {
    requestHandler: null,
    checkHandler: null,
    deviceHandler: null,
    setPermissionRequestHandler: (h) => void (s.requestHandler = h),
    setPermissionCheckHandler: (h) => void (s.checkHandler = h),
    setDevicePermissionHandler: (h) => void (s.deviceHandler = h),
  };
  return s;
}

export interface FakeElectron extends ElectronMainLike {
  session: { defaultSession: FakeSession };
  /** App event listeners by event name (web-contents-created, activate, ...). */
  appListeners: Map<string, Listener[]>;
  /** Events in the order the shell did them, to check that guards come before windows. */
  timeline: string[];
  handlers: Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>;
  schemes: Array<{ scheme: string; privileges: Record<string, boolean> }>;
  protocolHandlers: Map<string, (r: Request) => Promise<Response>>;
  menus: MenuItemTemplate[][];
  forked: string[];
  revealed: string[];
}

export function fakeElectron(host: FakeHost): FakeElectron {
  FakeWindow.all = [];
  FakeWindow.onContentsCreated = (contents) => {
    fe.timeline.push('window');
    for (const l of fe.appListeners.get('web-contents-created') ?? []) l({}, contents);
  };
  const fe: FakeElectron = {
    session: { defaultSession: fakeSession() },
    appListeners: new Map(),
    timeline: [],
    handlers: new Map(),
    schemes: [],
    protocolHandlers: new Map(),
    menus: [],
    forked: [],
    revealed: [],
    app: {
      whenReady: async () => {},
      getPath: () => '/tmp/rerender-fake-user-data',
      on: ((event: string, listener: Listener) => {
        fe.timeline.push(`app.on ${event}`);
        fe.appListeners.set(event, [...(fe.appListeners.get(event) ?? []), listener]);
        return undefined;
      }) as unknown as ElectronMainLike['app']['on'],
      quit: () => {},
      setName: () => {},
    },
    BrowserWindow: FakeWindow,
    ipcMain: {
      handle: (channel, listener) => void fe.handlers.set(channel, listener),
      removeHandler: (channel) => void fe.handlers.delete(channel),
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes) => void fe.schemes.push(...schemes),
      handle: (scheme, handler) => void fe.protocolHandlers.set(scheme, handler),
    },
    Menu: {
      buildFromTemplate: (t) => t,
      setApplicationMenu: (m) => void fe.menus.push(m as MenuItemTemplate[]),
    },
    utilityProcess: {
      fork: (modulePath) => {
        fe.forked.push(modulePath);
        const [mainSide, childSide] = portPair();
        serveHost(host, childSide);
        const proc = new EventEmitter();
        mainSide.on('message', (m) => proc.emit('message', m));
        return {
          postMessage: (m: unknown) => mainSide.postMessage(m),
          on: (event: string, l: (...args: unknown[]) => void) => proc.on(event, l),
          kill: () => true,
        } as unknown as ReturnType<ElectronMainLike['utilityProcess']['fork']>;
      },
    },
    dialog: {
      showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
      showSaveDialog: async () => ({ canceled: true }),
      showErrorBox: () => {},
    },
    shell: {
      showItemInFolder: (p) => void fe.revealed.push(p),
      openExternal: async () => {},
    },
  };
  return fe;
}
