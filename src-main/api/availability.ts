// What the engines can do in this build, and if not, exactly why: shown by the UI next to the
// buttons and by the CLI, never replaced by fake results.
import type { Capabilities } from './contract.ts';

export function engineAvailability(): Pick<Capabilities, 'propagate' | 'translate'> {
  return {
    propagate: {
      available: false,
      message: 'Propagation is not connected to projects in this build yet: edit key frames, export, and propagate with a later version.',
    },
    translate: {
      available: false,
      message: 'Key-frame translation (Stable Diffusion 1.5 + ControlNet) is not part of this build yet. Import edited key-frame images instead.',
    },
  };
}
