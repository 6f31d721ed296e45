// `export`: the project's frames as an MP4 at the working size and the source's exact frame rate.
// Each frame is, in order of preference: its render, the key frame's own image, the source frame.
import { decodePng, encodeMp4, toRgb, type MediaTools } from '../media/index.ts';
import { checkOutputTarget, type ReplacePolicy } from '../media/output.ts';
import type { Project } from '../project/index.ts';
import type { Progress } from '../jobs/progress.ts';
import { openSource } from './source.ts';
import { streamFrames, type DecodedFrame } from './frame-stream.ts';

export interface ExportRequest {
  outPath: string;
  crf?: number;
  audio?: boolean;
  /** What an existing file at `outPath` may be (default 'videos'); the project itself never. */
  replace?: ReplacePolicy;
}

export interface ExportDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  searchDirs?: readonly string[];
}

export interface ExportResult {
  out: string;
  frames: number;
  fromRenders: number;
  fromKeyframes: number;
  fromSource: number;
  audio: boolean;
}

/** The project's file and its SQLite/lock companions: being read, so never an export's target. */
function projectFiles(project: Project): string[] {
  return ['', '-wal', '-shm', '-journal', '.lock'].map((suffix) => `${project.path}${suffix}`);
}

/**
 * Refuses (OUTPUT_EXISTS / OUTPUT_UNWRITABLE) an output path the export would not write, before
 * any work: the editor asks this first so it can offer to replace an existing file.
 */
export async function checkExportTarget(project: Project, outPath: string, replace: ReplacePolicy = 'videos'): Promise<void> {
  await checkOutputTarget(outPath, { replace, protect: projectFiles(project) });
}

export async function exportVideo(project: Project, req: ExportRequest, deps: ExportDeps): Promise<ExportResult> {
  // Before the source is even opened: a refused path costs nothing.
  await checkExportTarget(project, req.outPath, req.replace);
  const src = await openSource(project, deps.searchDirs);
  const { geometry, probe } = src;
  const total = probe.frameCount;
  const rendered = new Set(project.renderedFrames());
  const keyImages = new Set(project.listKeyframes(() => '').filter((k) => k.state !== 'none').map((k) => k.frame));
  let fromRenders = 0;
  let fromKeyframes = 0;
  for (let i = 0; i < total; i++) {
    if (rendered.has(i)) fromRenders++;
    else if (keyImages.has(i)) fromKeyframes++;
  }
  const fromSource = total - fromRenders - fromKeyframes;
  const audio = req.audio !== false && probe.audio.length > 0;
  const expected = { width: geometry.width, height: geometry.height };

  // Source frames are only decoded when some frame needs one, in one sequential ffmpeg run.
  const source = fromSource > 0 ? streamFrames(src.path, probe, geometry, { start: 0, count: total }, { tools: deps.tools, signal: deps.signal }) : null;
  const nextSource = async (i: number): Promise<Uint8Array> => {
    let f: IteratorResult<DecodedFrame>;
    do {
      f = await source!.next();
      if (f.done) throw new Error(`the source ended before frame ${i}`);
    } while (f.value.index < i);
    return f.value.rgb;
  };

  try {
    await encodeMp4(
      {
        out: req.outPath,
        width: geometry.width,
        height: geometry.height,
        fps: probe.fps,
        frameCount: total,
        crf: req.crf,
        replace: req.replace,
        protect: projectFiles(project),
        audioFrom: audio ? { path: src.path, codec: probe.audio[0]?.codec ?? null } : null,
        frame: async (i) => {
          let rgb: Uint8Array;
          if (rendered.has(i)) rgb = toRgb(decodePng(project.getRender(i)!.image, expected));
          else if (keyImages.has(i)) rgb = toRgb(decodePng(project.getKeyframe(i)!.image!, expected));
          else rgb = await nextSource(i);
          return rgb;
        },
      },
      // Progress is what ffmpeg reports encoded (its -progress output), not what was fed to it.
      { tools: deps.tools, signal: deps.signal, onProgress: (p) => deps.onProgress?.({ stage: 'export', ...p }) },
    );
  } finally {
    await source?.close();
  }
  return { out: req.outPath, frames: total, fromRenders, fromKeyframes, fromSource, audio };
}
