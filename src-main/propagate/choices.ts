// The propagation choices that project settings and the editor also show: plain data with no
// imports, so the renderer's build can use them without pulling in Node or the addon.

/** Optical flow for the temporal and positional guides (OpenCV DIS presets, Farneback). */
export const FLOW_METHODS = ['dis-ultrafast', 'dis-fast', 'dis-medium', 'dis-fine', 'farneback'] as const;
export type FlowMethod = (typeof FLOW_METHODS)[number];

/** Where synthesis runs; 'auto': a hardware GPU through WebGPU, else the CPU. */
export const BACKENDS = ['auto', 'cpu', 'webgpu'] as const;
export type BackendSetting = (typeof BACKENDS)[number];

/**
 * Measured defaults (bench:quality and bench:propagate; see DEFAULT_SETTINGS in settings.ts for
 * the figures) that the project settings repeat.
 */
export const MEASURED_DEFAULTS = {
  searchVoteIters: 12,
  patchMatchIters: 1,
  temporalInit: true,
  flowMethod: 'dis-fine',
  backend: 'auto',
  /** Blend de-flicker strength; the addon applies the same when the option is left out. */
  deflicker: 0.7,
} as const satisfies { flowMethod: FlowMethod; backend: BackendSetting; [k: string]: unknown };
