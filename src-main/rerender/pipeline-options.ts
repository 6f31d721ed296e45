// What the diffusion pipeline must be loaded with for a Rerender config: the cross-frame
// attention layers, the FreeU factors and the contexts' type are compiled into the UNet graphs,
// so they are load-time options, and translation checks the pipeline it is given against them.
import type { FreeUFactors, PipelineOptions } from '../engine/pipeline/index.ts';
import type { RerenderConfig } from './config.ts';
import { RerenderConfigError } from './config.ts';

/** The FreeU factors a config asks for, or null (off, or every factor 1: no effect). */
export function rerenderFreeU(config: RerenderConfig): FreeUFactors | null {
  const { enabled, b1, b2, s1, s2, variant } = config.freeu;
  if (!enabled || (b1 === 1 && b2 === 1 && s1 === 1 && s2 === 1)) return null;
  // Absent means diffusers: those factors compile to the graphs (and cache keys) from before variants.
  return variant === 'official' ? { b1, b2, s1, s2, variant } : { b1, b2, s1, s2 };
}

/** The PipelineOptions fields translation depends on; merge them into the options of StableDiffusionPipeline.load. */
export function rerenderPipelineOptions(config: RerenderConfig): Required<Pick<PipelineOptions, 'crossFrame' | 'freeu' | 'contextType'>> {
  return { crossFrame: config.crossFrame.loose ? 'decoder-loose' : 'decoder', freeu: rerenderFreeU(config), contextType: config.contextPrecision };
}

function describe(f: FreeUFactors | null): string {
  return f ? `b1=${f.b1}, b2=${f.b2}, s1=${f.s1}, s2=${f.s2}, ${f.variant ?? 'diffusers'}` : 'off';
}

/** Throws unless the pipeline was compiled with what `config` asks for (FreeU factors, context type). */
export function checkPipeline(pipeline: { readonly freeu?: FreeUFactors | null; readonly contextType: 'float16' | 'float32'; readonly contextTypeAsked?: 'float16' | 'float32' }, config: RerenderConfig): void {
  checkPipelineFreeU(pipeline.freeu, config);
  // A device without fp16 keeps float32 contexts for a float16 request: the request is what must match.
  const asked = pipeline.contextTypeAsked ?? pipeline.contextType;
  if (asked !== config.contextPrecision) {
    throw new RerenderConfigError(`the pipeline keeps attention contexts in ${asked}, the config asks for ${config.contextPrecision}; load it with rerenderPipelineOptions(config)`);
  }
}

/** Throws unless the pipeline's compiled FreeU factors are the ones `config` asks for. */
export function checkPipelineFreeU(pipelineFreeU: FreeUFactors | null | undefined, config: RerenderConfig): void {
  const want = rerenderFreeU(config);
  const have = pipelineFreeU ?? null;
  const same = want === null || have === null
    ? want === have
    : want.b1 === have.b1 && want.b2 === have.b2 && want.s1 === have.s1 && want.s2 === have.s2 && (want.variant ?? 'diffusers') === (have.variant ?? 'diffusers');
  if (!same) {
    throw new RerenderConfigError(`the pipeline's FreeU (${describe(have)}) differs from the config's (${describe(want)}); load it with rerenderPipelineOptions(config)`);
  }
}
