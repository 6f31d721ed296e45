// Public surface of the diffusion pipeline (see README.md).
export { StableDiffusionPipeline } from './pipeline.ts';
export { PipelineError } from './errors.ts';
export type { PipelineErrorCode } from './errors.ts';
export { controlFromRgb8, imageFromRgb8, imageToRgb8, resizeRgb8 } from './image.ts';
export type * from './types.ts';
export { CONTROL_TYPES } from './types.ts';
