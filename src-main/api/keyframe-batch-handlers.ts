// The host's EbSynth-workflow requests: batch key frames, export their source pictures, import a
// folder of painted frames, and an image import by path (the in-app file browser's choice). Each
// edit is one undo step (edit-history.ts), named for the artist.
import path from 'node:path';
import type { KeyframeExportInfo, KeyframeFolderPreview, KeyframePlanChoice, KeyframePlanMode, KeyframePlanPreview } from './contract.ts';
import type { MediaTools } from '../media/index.ts';
import type { Project } from '../project/index.ts';
import { recordEditAsync } from '../project/edit-history.ts';
import { applyKeyframePlan, frameDifferences, previewKeyframePlan } from '../studio/keyframes.ts';
import { exportKeyframeSources } from '../studio/keyframe-export.ts';
import { importKeyframeFolder, importPaintedFrame, previewKeyframeFolder } from '../studio/keyframe-import-dir.ts';
import { CodedError } from '../errors.ts';

export interface KeyframeBatchContext {
  current(): Project;
  tools(): Promise<MediaTools>;
}

function absolute(p: string, what: string): string {
  if (!path.isAbsolute(p)) throw new CodedError('INVALID_ARGUMENT', `'${p}' is not an absolute path: choose the ${what} in the file browser.`);
  return p;
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

export function keyframeBatchHandlers(ctx: KeyframeBatchContext) {
  // The automatic plan analyses the whole clip; the dialog previews each change of the gaps, so the
  // analysis is kept per open project (its video does not change while it is open). A failed one
  // is not kept.
  const analyses = new WeakMap<Project, Promise<Float64Array>>();
  const differences = (p: Project, tools: MediaTools) => (): Promise<Float64Array> => {
    let a = analyses.get(p);
    if (!a) {
      a = frameDifferences(p, { tools });
      analyses.set(p, a);
      a.catch(() => analyses.delete(p));
    }
    return a;
  };
  return {
    async planKeyframes(plan: KeyframePlanChoice, mode: KeyframePlanMode): Promise<KeyframePlanPreview> {
      const p = ctx.current();
      const tools = await ctx.tools();
      return previewKeyframePlan(p, plan, mode, { tools, differences: differences(p, tools) });
    },
    async applyKeyframePlan(plan: KeyframePlanChoice, mode: KeyframePlanMode, opts: { dropEdits?: boolean | undefined }): Promise<void> {
      const p = ctx.current();
      const t = await ctx.tools();
      const label = 'every' in plan ? `Key frames every ${plan.every}` : 'Automatic key frames';
      await recordEditAsync(p, mode === 'add' ? `${label} (added)` : label, { keyframes: 'all' }, () => applyKeyframePlan(p, plan, mode, { dropEdits: opts.dropEdits === true }, { tools: t, differences: differences(p, t) }));
    },
    async exportKeyframeSources(dir: string, opts: { overwrite?: boolean | undefined; frames?: number[] | undefined; checkOnly?: boolean | undefined }): Promise<KeyframeExportInfo> {
      const p = ctx.current();
      return exportKeyframeSources(
        p,
        { dir: absolute(dir, 'folder'), overwrite: opts.overwrite === true, checkOnly: opts.checkOnly === true, ...(opts.frames ? { frames: opts.frames } : {}) },
        { tools: await ctx.tools() },
      );
    },
    async previewKeyframeFolder(dir: string, opts: { addMissing?: boolean | undefined }): Promise<KeyframeFolderPreview> {
      const p = ctx.current();
      return previewKeyframeFolder(p, absolute(dir, 'folder'), { addMissing: opts.addMissing === true }, { tools: await ctx.tools() });
    },
    async importKeyframeFolder(dir: string, opts: { addMissing?: boolean | undefined }): Promise<void> {
      const p = ctx.current();
      const t = await ctx.tools();
      let count = 0;
      await recordEditAsync(p, () => `Import ${plural(count, 'painted frame', 'painted frames')}`, { keyframes: 'all' }, async () => {
        count = (await importKeyframeFolder(p, absolute(dir, 'folder'), { addMissing: opts.addMissing === true }, { tools: t })).imported.length;
      });
    },
    async importKeyframeImageFile(frame: number, file: string): Promise<void> {
      const p = ctx.current();
      const t = await ctx.tools();
      await recordEditAsync(p, `Import image to ${frame}`, { keyframes: [frame] }, () => importPaintedFrame(p, frame, absolute(file, 'image'), { tools: t }));
    },
  };
}
