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

export class FakeWindow extends EventEmitter implements BrowserWindowLike {
  static all: FakeWindow[] = [];
  static getAllWindows(): BrowserWindowLike[] {
    return FakeWindow.all;
  }
  loaded: string[] = [];
  sent: Array<{ channel: string; args: unknown[] }> = [];
  inputs: unknown[] = [];
  openHandler: ((d: { url: string }) => { action: 'deny' | 'allow' }) | null = null;
  navigateHandler: ((event: { preventDefault(): void }, url: string) => void) | null = null;
  readonly options: WindowOptions;
  constructor(options: WindowOptions) {
    super();
    this.options = options;
    FakeWindow.all.push(this);
  }
  webContents = {
    send: (channel: string, ...args: unknown[]) => void this.sent.push({ channel, args }),
    sendInputEvent: (e: unknown) => void this.inputs.push(e),
    setWindowOpenHandler: (h: (d: { url: string }) => { action: 'deny' | 'allow' }) => {
      this.openHandler = h;
    },
    on: (_e: 'will-navigate', l: (event: { preventDefault(): void }, url: string) => void) => {
      this.navigateHandler = l;
    },
    isDestroyed: () => false,
  };
  async loadURL(url: string): Promise<void> {
    this.loaded.push(url);
  }
  show(): void {}
  isDestroyed(): boolean {
    return false;
  }
}

export interface FakeElectron extends ElectronMainLike {
  handlers: Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>;
  schemes: Array<{ scheme: string; privileges: Record<string, boolean> }>;
  protocolHandlers: Map<string, (r: Request) => Promise<Response>>;
  menus: MenuItemTemplate[][];
  forked: string[];
  revealed: string[];
}

export function fakeElectron(host: FakeHost): FakeElectron {
  FakeWindow.all = [];
  const fe: FakeElectron = {
    handlers: new Map(),
    schemes: [],
    protocolHandlers: new Map(),
    menus: [],
    forked: [],
    revealed: [],
    app: {
      whenReady: async () => {},
      getPath: () => '/tmp/rerender-fake-user-data',
      on: () => undefined,
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
