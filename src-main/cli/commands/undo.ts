// `rerender undo` / `rerender redo`: the editor's undo history, from the shell. Both work on the
// history kept in the project file (src-main/project/edit-history.ts), so a step undone here is
// redone in the editor and the other way round.
import type { Command } from '../command.ts';
import { parse } from './args.ts';
import { withProject } from './project-io.ts';

function historyCommand(dir: 'undo' | 'redo'): Command {
  return {
    name: dir,
    summary: dir === 'undo' ? "undo the project's last change (the editor's Ctrl+Z)" : 'redo the last undone change',
    usage: `Usage: rerender ${dir} <project.rrproj> [--list]

  --list   show the history instead (✓ done, · undone) and change nothing`,
    async run(ctx, argv) {
      const { values, positionals } = parse(argv, { list: { type: 'boolean' } }, 1);
      await withProject(positionals[0]!, async (p) => {
        if (values.list) {
          const info = p.history.info();
          const lines = info.steps.map((s, i) => `${i < info.position ? '✓' : '·'} ${s.label}`);
          ctx.out.result({ ...info }, lines.length > 0 ? lines.join('\n') : 'no changes in the history');
          return;
        }
        const label = dir === 'undo' ? p.history.undo() : p.history.redo();
        const info = p.history.info();
        ctx.out.result(
          { [dir === 'undo' ? 'undid' : 'redid']: label, undo: info.undo, redo: info.redo },
          label === null ? `nothing to ${dir}` : `${dir === 'undo' ? 'undid' : 'redid'}: ${label}`,
        );
      });
    },
  };
}

export const undoCommand = historyCommand('undo');
export const redoCommand = historyCommand('redo');
