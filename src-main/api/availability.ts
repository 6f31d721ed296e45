// What the engines can do in this build, and if not, exactly why: shown by the UI next to the
// buttons and by the CLI, never replaced by fake results.
import type { Capabilities } from './contract.ts';
import { loadPropagateAddon } from '../propagate/native.ts';
import { loadBlendAddon } from '../propagate/blend.ts';

function nativeStatus(): Capabilities['propagate'] {
  try {
    loadPropagateAddon();
    loadBlendAddon();
    return { available: true, message: null };
  } catch (e) {
    return { available: false, message: e instanceof Error ? e.message : String(e) };
  }
}

export function engineAvailability(): Pick<Capabilities, 'propagate' | 'translate'> {
  return {
    propagate: nativeStatus(),
    translate: {
      available: false,
      message: 'Key-frame translation (Stable Diffusion 1.5 + ControlNet) is not part of this build yet. Import edited key-frame images instead.',
    },
  };
}
