import type { Command } from '../command.ts';
import { initCommand } from './init.ts';
import { infoCommand } from './info.ts';
import { keyframesCommand } from './keyframes.ts';
import { keyframeCommand } from './keyframe.ts';
import { exportCommand } from './export.ts';
import { propagateCommand } from './propagate.ts';
import { img2imgCommand, txt2imgCommand } from './generate.ts';
import { translateCommand } from './translate.ts';
import { runCommand } from './run.ts';
import { modelsCommand } from './models.ts';
import { farmCommand } from './farm.ts';
import { workerCommand } from './worker.ts';
import { redoCommand, undoCommand } from './undo.ts';

export const commands: readonly Command[] = [
  initCommand, infoCommand, keyframesCommand, keyframeCommand, translateCommand, propagateCommand, exportCommand, runCommand, txt2imgCommand, img2imgCommand, modelsCommand, farmCommand, workerCommand,
  undoCommand, redoCommand,
];
