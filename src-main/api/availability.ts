// What the engines can do in this build, and if not, exactly why: shown by the UI next to the
// buttons and by the CLI, never replaced by fake results.
import type { Capabilities } from './contract.ts';
import type { Project } from '../project/index.ts';
import { loadPropagateAddon } from '../propagate/native.ts';
import { loadBlendAddon } from '../propagate/blend.ts';
import { modelMessage, modelProblems } from '../studio/models.ts';

function nativeStatus(): Capabilities['propagate'] {
  try {
    loadPropagateAddon();
    loadBlendAddon();
    return { available: true, message: null };
  } catch (e) {
    return { available: false, message: e instanceof Error ? e.message : String(e) };
  }
}

const EDITOR_HOW_TO_SET = 'the model settings (SD 1.5 model and ControlNet paths, saved in the project), or `rerender translate <project> --model PATH --controlnet PATH`';

/**
 * Translation needs the native addon (Canny edges, optical flow) and the open project's model and
 * ControlNet: their files must exist and be safetensors files or diffusers folders of the right
 * kind (a cheap check; nothing is loaded).
 */
function translateStatus(project: Project | null, native: Capabilities['propagate']): Capabilities['translate'] {
  if (!native.available) return native;
  if (!project) {
    return { available: false, message: 'Open a project first: key-frame translation uses the Stable Diffusion 1.5 model and Canny ControlNet set in its settings.' };
  }
  const problems = modelProblems(project.settings());
  return problems.length === 0 ? { available: true, message: null } : { available: false, message: modelMessage(problems, EDITOR_HOW_TO_SET) };
}

export function engineAvailability(project: Project | null): Pick<Capabilities, 'propagate' | 'translate'> {
  const native = nativeStatus();
  return { propagate: native, translate: translateStatus(project, native) };
}
