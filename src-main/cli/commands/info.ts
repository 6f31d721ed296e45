import type { Command } from '../command.ts';
import { formatRational } from '../../media/index.ts';
import { translationHashes } from '../../studio/params.ts';
import { parse } from './args.ts';
import { withProjectReadOnly } from './project-io.ts';
import { existsSync } from 'node:fs';

export const infoCommand: Command = {
  name: 'info',
  summary: 'show a project: source, working size, key frames, renders, jobs',
  usage: 'Usage: rerender info <project.rrproj>',
  async run(ctx, argv) {
    const { positionals } = parse(argv, {}, 1);
    // Read-only: info works while the editor or a propagate has the project open, and changes nothing.
    await withProjectReadOnly(positionals[0]!, async (p) => {
      const s = p.source();
      const keyframes = p.listKeyframes(translationHashes(p));
      const jobs = p.listJobs().slice(0, 5);
      const data = {
        project: p.path,
        schemaVersion: p.schemaVersion,
        source: { path: s.path, present: existsSync(s.path), width: s.probe.width, height: s.probe.height, fps: s.probe.fps, frameCount: s.probe.frameCount, audioStreams: s.probe.audio.length },
        working: s.working,
        keyframes,
        renderedFrames: p.renderCount(),
        jobs: jobs.map((j) => ({ id: j.id, kind: j.kind, status: j.status, done: j.done, total: j.total, error: j.error })),
      };
      const lines = [
        `project   ${p.path} (schema v${p.schemaVersion})`,
        `source    ${s.path}${data.source.present ? '' : '  [MISSING: it is re-linked by content when found]'}`,
        `          ${s.probe.width}×${s.probe.height}, ${s.probe.frameCount} frames at ${formatRational(s.probe.fps)} fps, ${s.probe.audio.length} audio stream(s)`,
        `working   ${s.working.width}×${s.working.height} (crop l${s.working.crop.left} r${s.working.crop.right} t${s.working.crop.top} b${s.working.crop.bottom})`,
        `keyframes ${keyframes.length === 0 ? 'none' : keyframes.map((k) => `${k.frame}:${k.state}${k.hasMask ? '+mask' : ''}`).join(' ')}`,
        `renders   ${data.renderedFrames} of ${s.probe.frameCount} frames`,
        ...jobs.map((j) => `job       ${j.kind} ${j.status} ${j.done}/${j.total}${j.error ? `: ${j.error}` : ''}`),
      ];
      ctx.out.result(data, lines.join('\n'));
    });
  },
};
