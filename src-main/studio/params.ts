// Which settings a stage's output depends on. A stored result whose hash differs from the current
// one is stale: translated key frames show 'stale', renders are redone.
//
// Key-frame translation is a chain: key frame i is made with cross-frame attention on the anchor
// (the first key frame) and the previous key frame, and pixel-aware fusion of their results. So
// the hash of key frame i covers the settings, its own prompt and mask, its source frame, and the
// hashes of the anchor and of the previous key frame. An artist-edited key frame stays as it is
// and takes part in the chain through its image: later key frames are fused with it.
import { createHash } from 'node:crypto';
import { paramsHash, type Project, type ProjectSettings, type WorkingGeometry } from '../project/index.ts';

/** What one key frame contributes to the chain. */
export interface ChainKeyframe {
  frame: number;
  /** The key frame's prompt override (null: the project's prompt). */
  prompt: string | null;
  /** Digest of its painted mask, null when it has none. */
  mask: string | null;
  /** Digest of its artist-edited image; null when it is translated or empty. */
  edited: string | null;
}

export interface ChainBase {
  settings: ProjectSettings;
  /** sha256 of the source video. */
  source: string;
  working: WorkingGeometry;
  /** Translation settings the project's settings cannot hold, given for one run (e.g. from an official config). */
  overlay?: unknown;
}

export const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 32);

/** An overlay with its empty objects removed, so "nothing" hashes the same however it was written. */
export function pruneEmpty(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const p = pruneEmpty(x);
    if (p === undefined) continue;
    if (typeof p === 'object' && p !== null && !Array.isArray(p) && Object.keys(p).length === 0) continue;
    out[k] = p;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The hash each key frame's translation has when made now, in key-frame order (the first is the anchor). */
export function translationChain(base: ChainBase, keys: readonly ChainKeyframe[]): Map<number, string> {
  // Propagation and export settings do not touch key frames; the prompt is per key frame. The float
  // precision is left out like the execution provider: it is how the engine computes, and a key
  // frame made in fp16 on one machine stays valid when another computes in fp32.
  // The ControlNets (paths, kinds, scales) are all in the settings; an empty list of extra ones is
  // left out so that projects from before it existed keep their hashes.
  const { propagation: _p, export: _e, precision: _f, prompt, extraControlnets, ...rest } = base.settings;
  const settings = extraControlnets.length > 0 ? { ...rest, extraControlnets } : rest;
  const common = paramsHash({ stage: 'translate-v1', settings, source: base.source, working: base.working, overlay: pruneEmpty(base.overlay) });
  const sorted = [...keys].sort((a, b) => a.frame - b.frame);
  const out = new Map<number, string>();
  let anchor: string | null = null;
  let previous: string | null = null;
  for (const k of sorted) {
    const own = { frame: k.frame, prompt: k.prompt ?? prompt, mask: k.mask, edited: k.edited };
    const h = paramsHash({ common, own, anchor, previous });
    out.set(k.frame, h);
    anchor ??= h;
    previous = h;
  }
  return out;
}

/** The project's key frames as the chain sees them; reads image/mask bytes only of edited or masked key frames. */
export function chainKeyframes(project: Project): ChainKeyframe[] {
  return project.listKeyframes(() => '').map((k) => {
    const edited = k.state === 'edited';
    const full = edited || k.hasMask ? project.getKeyframe(k.frame) : null;
    return {
      frame: k.frame,
      prompt: k.prompt,
      mask: full?.mask ? digest(full.mask) : null,
      edited: edited && full?.image ? digest(full.image) : null,
    };
  });
}

/** The chain of the project as it stands (see translationChain). */
export function projectChain(project: Project, overlay?: unknown): Map<number, string> {
  const src = project.source();
  return translationChain({ settings: project.settings(), source: src.sha256, working: src.working, overlay }, chainKeyframes(project));
}

/** Per-frame translation hashes, as Project.listKeyframes wants them (the chain is computed once, on first use). */
export function translationHashes(project: Project, overlay?: unknown): (frame: number) => string {
  let chain: Map<number, string> | null = null;
  return (frame) => {
    chain ??= projectChain(project, overlay);
    return chain.get(frame) ?? '';
  };
}
