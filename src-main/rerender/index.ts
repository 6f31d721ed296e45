// Rerender A Video, stage 1: key-frame translation under hierarchical cross-frame constraints.
export { translateKeyframes, rgbToPlanes, planesToRgb } from './translate.ts';
export type { TranslateDeps, TranslateResult, KeyframeResult, InspectEvent } from './translate.ts';
export { defaultRerenderConfig, resolveRerenderConfig, RerenderConfigError, startStep, inPeriod, inMaskPeriod } from './config.ts';
export type { RerenderConfig, RerenderConfigPatch, Period } from './config.ts';
export { checkPipeline, checkPipelineFreeU, rerenderFreeU, rerenderPipelineOptions } from './pipeline-options.ts';
export { mapOfficialConfig } from './official-config.ts';
export type { OfficialMapping } from './official-config.ts';
export { contextBytesPerFrame, ContextStore } from './context-store.ts';
export { nativeMotion, planarFlow } from './flow-provider.ts';
export type { FrameMotion } from './fusion.ts';
export { rerenderNoise } from './noise.ts';
export type { RerenderNoise } from './noise.ts';
export type { RerenderPipeline } from './sampler-pass.ts';
export { colorCorrect } from './color.ts';
