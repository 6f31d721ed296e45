// Where models are found: the one Rerender models folder (RERENDER_MODELS_DIR, else
// ~/.rerender-studio/models) first, then the folders artists already keep models in, referenced
// in place and never copied: A1111/Forge WebUI and ComfyUI installs (or their models/ folder),
// any other Rerender models folder, and huggingface_hub caches. Extra roots come from
// --models-from DIR and RERENDER_MODEL_ROOTS; the huggingface_hub cache of this machine is always
// looked at. Paths and the environment are always passed in.
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { CodedError } from '../../errors.ts';
import { KIND_FOLDERS, classifyModel, findHuggingFaceSnapshot, type ModelKind } from './models-folder.ts';

export type RootLayout = 'rerender' | 'a1111' | 'comfyui' | 'hf-cache';
/** How the root was given: the models folder itself, --models-from, RERENDER_MODEL_ROOTS, or this machine's huggingface_hub cache. */
export type RootOrigin = 'models-folder' | 'flag' | 'env' | 'hf-default';
export type ModelFormat = 'safetensors' | 'diffusers' | 'ckpt' | 'pth' | 'pt';

export interface ModelRoot {
  readonly dir: string;
  readonly layout: RootLayout;
  readonly origin: RootOrigin;
}

export interface FoundModel {
  readonly kind: ModelKind;
  /** Path inside its kind folder (A1111 and ComfyUI allow subfolders), or ORG/NAME[/file] in a hub cache. */
  readonly name: string;
  readonly path: string;
  readonly format: ModelFormat;
  readonly sizeBytes: number;
  /** ControlNets: what they condition on when the name or config says (canny, depth, …); else null. */
  readonly control: string | null;
  readonly root: string;
  readonly layout: RootLayout;
  readonly origin: RootOrigin;
}

export interface ModelsEnv {
  RERENDER_MODELS_DIR?: string | undefined;
  /** Deprecated name of RERENDER_MODELS_DIR, still honoured. */
  RERENDER_MODELS?: string | undefined;
  RERENDER_MODEL_ROOTS?: string | undefined;
  HOME?: string | undefined;
  HF_HOME?: string | undefined;
  HF_HUB_CACHE?: string | undefined;
}

export const LAYOUT_LABELS: Readonly<Record<RootLayout, string>> = {
  rerender: 'Rerender models folder',
  a1111: 'A1111/Forge WebUI',
  comfyui: 'ComfyUI',
  'hf-cache': 'huggingface_hub cache',
};

function home(env: ModelsEnv): string {
  return env.HOME || os.homedir();
}

/**
 * The one models folder every command and the editor use: `flag` (a command's --dir/--models),
 * else RERENDER_MODELS_DIR, else the deprecated RERENDER_MODELS (with a warning), else
 * ~/.rerender-studio/models.
 */
export function resolveModelsDir(env: ModelsEnv, opts: { flag?: string | undefined; cwd?: string; warn?: (message: string) => void } = {}): string {
  const old = env.RERENDER_MODELS;
  if (old && opts.flag === undefined) {
    opts.warn?.(env.RERENDER_MODELS_DIR
      ? 'RERENDER_MODELS is deprecated and ignored because RERENDER_MODELS_DIR is set; unset it'
      : 'RERENDER_MODELS is deprecated: rename it to RERENDER_MODELS_DIR (the one models folder of every command and the editor)');
  }
  const dir = opts.flag ?? (env.RERENDER_MODELS_DIR || old || nodePath.join(home(env), '.rerender-studio', 'models'));
  return nodePath.resolve(opts.cwd ?? process.cwd(), dir);
}

/** Where huggingface_hub keeps its cache on this machine (its own rules). */
export function hubCacheDir(env: ModelsEnv): string {
  return env.HF_HUB_CACHE || nodePath.join(env.HF_HOME || nodePath.join(home(env), '.cache', 'huggingface'), 'hub');
}

/** A models root that does not exist or has no layout we know: bad input when given on the command line. */
export class ModelRootError extends CodedError<'FILE_NOT_FOUND' | 'INVALID_ARGUMENT'> {}

const KIND_ALIASES: Readonly<Record<ModelKind, readonly string[]>> = {
  checkpoint: ['checkpoints', 'stable-diffusion'],
  controlnet: ['controlnet'],
  lora: ['lora', 'loras'],
  vae: ['vae'],
};
// Folders only ComfyUI's models/ has; with 'checkpoints' they tell it from a Rerender models folder.
const COMFY_MARKERS = ['loras', 'diffusion_models', 'clip', 'clip_vision', 'unet', 'upscale_models', 'embeddings', 'text_encoders'];

function subdirs(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory() || e.isSymbolicLink()) out.set(e.name.toLowerCase(), e.name);
  } catch {
    // unreadable: no subfolders
  }
  return out;
}

const isHubDir = (dir: string): boolean => [...subdirs(dir).values()].some((n) => n.startsWith('models--'));

interface Layout {
  readonly dir: string;
  readonly layout: RootLayout;
  /** The kind folders to scan (absolute). */
  readonly kindDirs: readonly [ModelKind, string][];
}

/** The layout of `dir`: a hub cache (or HF_HOME), an A1111/Forge or ComfyUI root or its models/, a Rerender models folder; null when none. */
export function detectLayout(dir: string): Layout | null {
  if (isHubDir(dir)) return { dir, layout: 'hf-cache', kindDirs: [] };
  if (isHubDir(nodePath.join(dir, 'hub'))) return { dir: nodePath.join(dir, 'hub'), layout: 'hf-cache', kindDirs: [] };
  let base = dir;
  let names = subdirs(dir);
  const kindNames = (m: Map<string, string>) => Object.values(KIND_ALIASES).flat().some((a) => m.has(a));
  if (!kindNames(names) && names.has('models')) {
    base = nodePath.join(dir, names.get('models')!);
    names = subdirs(base);
  }
  if (!kindNames(names)) return null;
  const layout: RootLayout = names.has('stable-diffusion') ? 'a1111' : COMFY_MARKERS.some((m) => names.has(m)) ? 'comfyui' : 'rerender';
  const kindDirs: [ModelKind, string][] = [];
  for (const [kind, aliases] of Object.entries(KIND_ALIASES) as [ModelKind, readonly string[]][]) {
    for (const a of aliases) if (names.has(a)) kindDirs.push([kind, nodePath.join(base, names.get(a)!)]);
  }
  // The A1111 ControlNet extension keeps its models inside the extension too.
  const ext = nodePath.join(dir, 'extensions', 'sd-webui-controlnet', 'models');
  if (layout === 'a1111' && fs.existsSync(ext)) kindDirs.push(['controlnet', ext]);
  return { dir, layout, kindDirs };
}

/** The path-list in RERENDER_MODEL_ROOTS (':' separated, ';' on Windows), empty entries dropped. */
export function envRoots(env: ModelsEnv): string[] {
  return (env.RERENDER_MODEL_ROOTS ?? '').split(nodePath.delimiter).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Every root to look in, in order: the models folder, `from` (--models-from, absolute), the
 * RERENDER_MODEL_ROOTS entries, this machine's huggingface_hub cache. A --models-from folder that
 * is missing or has no known layout is an error (exit 3); a stale RERENDER_MODEL_ROOTS entry is a
 * warning, so a moved folder does not stop every command.
 */
export function modelRoots(env: ModelsEnv, modelsDir: string, from: readonly string[] = [], warn: (message: string) => void = () => {}): ModelRoot[] {
  const roots: ModelRoot[] = [{ dir: modelsDir, layout: 'rerender', origin: 'models-folder' }];
  const add = (dir: string, origin: RootOrigin): void => {
    const abs = nodePath.resolve(dir);
    const what = origin === 'flag' ? `--models-from ${dir}` : `RERENDER_MODEL_ROOTS entry ${dir}`;
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
      if (origin === 'flag') throw new ModelRootError('FILE_NOT_FOUND', `${what}: no such folder`);
      warn(`${what}: no such folder; skipped`);
      return;
    }
    const l = detectLayout(abs);
    if (l === null) {
      const msg = `${what}: no models layout found (an A1111/Forge or ComfyUI folder or its models/, a huggingface_hub cache, or a Rerender models folder)`;
      if (origin === 'flag') throw new ModelRootError('INVALID_ARGUMENT', msg);
      warn(`${msg}; skipped`);
      return;
    }
    roots.push({ dir: l.dir, layout: l.layout, origin });
  };
  for (const d of from) add(d, 'flag');
  for (const d of envRoots(env)) add(d, 'env');
  const hub = hubCacheDir(env);
  if (isHubDir(hub)) roots.push({ dir: hub, layout: 'hf-cache', origin: 'hf-default' });
  // The same folder given twice is looked at once.
  const seen = new Set<string>();
  return roots.filter((r) => {
    const key = realpath(r.dir);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ------------------------------------------------------------------ what a model is

const CONTROL_TYPES = ['canny', 'softedge', 'hed', 'pidinet', 'depth', 'lineart_anime', 'lineart', 'openpose', 'scribble', 'normalbae', 'normal', 'mlsd', 'seg', 'tile', 'inpaint', 'shuffle', 'ip2p', 'qrcode'];
const CONTROL_ALIASES: Readonly<Record<string, string>> = { normalbae: 'normal', pidinet: 'softedge' };

/** The control type a ControlNet's name (or repo, or config) names, e.g. control_v11p_sd15_canny → canny; null when none. */
export function controlTypeOf(text: string): string | null {
  const s = text.toLowerCase();
  for (const t of CONTROL_TYPES) {
    if (new RegExp(`(?<![a-z])${t}(?![a-z])`).test(s)) return CONTROL_ALIASES[t] ?? t;
  }
  return null;
}

const FORMATS: Readonly<Record<string, ModelFormat>> = { '.safetensors': 'safetensors', '.ckpt': 'ckpt', '.pth': 'pth', '.pt': 'pt' };
const isPickle = (f: ModelFormat): boolean => f === 'ckpt' || f === 'pth' || f === 'pt';

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function sizeOf(path: string): number {
  const st = fs.statSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of fs.readdirSync(path)) {
    try {
      total += sizeOf(nodePath.join(path, e));
    } catch {
      // a broken link in a hub snapshot: not counted
    }
  }
  return total;
}

/** The kind the file's contents say, null when they say nothing we know or cannot be read. */
function contentKind(path: string): ModelKind | null {
  try {
    return classifyModel(path);
  } catch {
    return null;
  }
}

/** Guessed from the name, for files whose contents we cannot classify (pickles): hub caches have no kind folders. */
function nameKind(name: string): ModelKind | null {
  const s = name.toLowerCase();
  if (/control|t2i-?adapter/.test(s)) return 'controlnet';
  if (/lora|lycoris|locon/.test(s)) return 'lora';
  if (/(?<![a-z])vae(?![a-z])/.test(s)) return 'vae';
  return null;
}

function configText(dir: string): string {
  try {
    const cfg = JSON.parse(fs.readFileSync(nodePath.join(dir, 'config.json'), 'utf8')) as { _name_or_path?: unknown };
    return typeof cfg._name_or_path === 'string' ? cfg._name_or_path : '';
  } catch {
    return '';
  }
}

function entry(root: ModelRoot, kind: ModelKind, name: string, path: string, format: ModelFormat, hint = ''): FoundModel {
  const control = kind === 'controlnet' ? controlTypeOf(`${name} ${hint}`) ?? (format === 'diffusers' ? controlTypeOf(configText(path)) : null) : null;
  return { kind, name, path, format, sizeBytes: sizeOf(path), control, root: root.dir, layout: root.layout, origin: root.origin };
}

const SKIP = /\.(part|importing|fetching)$|^\./;

/** The models under one kind folder, subfolders included (a few levels), diffusers folders as one model. */
function scanKindDir(root: ModelRoot, kind: ModelKind, dir: string): FoundModel[] {
  const out: FoundModel[] = [];
  const walk = (d: string, rel: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (SKIP.test(e.name)) continue;
      const p = nodePath.join(d, e.name);
      const name = rel ? `${rel}/${e.name}` : e.name;
      try {
        const st = fs.statSync(p);
        if (st.isDirectory()) {
          if (fs.existsSync(nodePath.join(p, 'model_index.json')) || fs.existsSync(nodePath.join(p, 'config.json'))) {
            out.push(entry(root, contentKind(p) ?? kind, name, p, 'diffusers'));
          } else if (depth < 3) walk(p, name, depth + 1);
          continue;
        }
        const format = FORMATS[nodePath.extname(e.name).toLowerCase()];
        if (format === undefined) continue;
        // The contents say best what a file is (a LoRA misfiled among checkpoints); else its folder.
        out.push(entry(root, contentKind(p) ?? kind, name, p, format));
      } catch {
        // vanished or unreadable while listing: skipped
      }
    }
  };
  walk(dir, '', 0);
  return out;
}

/** One hub cache: the snapshot of each models--ORG--NAME repo, as a diffusers folder and/or its top-level model files. */
function scanHubCache(root: ModelRoot): FoundModel[] {
  const out: FoundModel[] = [];
  for (const e of subdirs(root.dir).values()) {
    if (!e.startsWith('models--')) continue;
    const repo = e.slice('models--'.length).split('--').join('/');
    const snap = findHuggingFaceSnapshot(root.dir, repo);
    if (snap === null) continue;
    try {
      const k = contentKind(snap);
      if (k !== null) out.push(entry(root, k, repo, snap, 'diffusers'));
      for (const f of fs.readdirSync(snap)) {
        const format = FORMATS[nodePath.extname(f).toLowerCase()];
        // A diffusers folder's own weights are part of it, not a model of their own.
        if (format === undefined || (k !== null && f.startsWith('diffusion_pytorch_model.'))) continue;
        const p = nodePath.join(snap, f);
        if (!fs.existsSync(p)) continue; // a link to a blob that is gone
        const kind = contentKind(p) ?? (isPickle(format) ? nameKind(`${repo}/${f}`) : null);
        if (kind !== null) out.push(entry(root, kind, `${repo}/${f}`, p, format, repo));
      }
    } catch {
      // an unreadable repo: skipped
    }
  }
  return out;
}

const KIND_ORDER: readonly ModelKind[] = ['checkpoint', 'controlnet', 'lora', 'vae'];

/** The models in one root, by kind then name. */
export function scanRoot(root: ModelRoot): FoundModel[] {
  let found: FoundModel[];
  if (root.layout === 'hf-cache') found = scanHubCache(root);
  else if (root.origin === 'models-folder') {
    found = (Object.entries(KIND_FOLDERS) as [ModelKind, string][]).flatMap(([k, f]) => scanKindDir(root, k, nodePath.join(root.dir, f)));
  } else found = (detectLayout(root.dir)?.kindDirs ?? []).flatMap(([k, d]) => scanKindDir(root, k, d));
  return found.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.name.localeCompare(b.name, 'en'));
}

/** Every model in `roots`, in root order; a file reachable from two roots is listed once. */
export function findModels(roots: readonly ModelRoot[]): FoundModel[] {
  const seen = new Set<string>();
  const out: FoundModel[] = [];
  for (const r of roots) {
    for (const m of scanRoot(r)) {
      const key = realpath(m.path);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(m);
    }
  }
  return out;
}

/**
 * The model a command uses when none is named: the first of `kind` in root order (the models
 * folder first) that `accept` takes, safetensors and diffusers folders before pickles.
 */
export function pickModel(models: readonly FoundModel[], kind: ModelKind, accept: (m: FoundModel) => boolean = () => true): FoundModel | undefined {
  const ok = models.filter((m) => m.kind === kind && accept(m));
  return ok.find((m) => !isPickle(m.format)) ?? ok[0];
}

const SD15_REPOS = ['stable-diffusion-v1-5/stable-diffusion-v1-5', 'runwayml/stable-diffusion-v1-5'];

/** The checkpoint commands use when none is named; a hub cache holds whatever was fetched for other tools, so SD 1.5 repos come first there. */
export function pickCheckpoint(models: readonly FoundModel[]): FoundModel | undefined {
  return pickModel(models.filter((m) => m.origin !== 'hf-default'), 'checkpoint')
    ?? pickModel(models, 'checkpoint', (m) => SD15_REPOS.some((r) => m.name.startsWith(r)))
    ?? pickModel(models, 'checkpoint');
}

/** The ControlNet for `types` (e.g. ['canny']) when none is named: one named for them, else one whose type nothing tells. */
export function pickControlNet(models: readonly FoundModel[], types: readonly string[]): FoundModel | undefined {
  return pickModel(models, 'controlnet', (m) => m.control !== null && types.includes(m.control)) ?? pickModel(models, 'controlnet', (m) => m.control === null);
}
