// ControlNet preprocessors (see preprocessor.ts).
export { loadCanny, defaultNativeAddonPath } from './canny.ts';
export type { CannyFn, CannyOptions } from './canny.ts';
export { ANNOTATORS, annotatorPath, annotatorPreprocessor, cannyPreprocessor, onnxPreprocessor } from './preprocessor.ts';
export { BUILTIN_ANNOTATORS, builtinPreprocessor, builtinWeightsPath } from './builtin.ts';
export type { BuiltinKind, BuiltinOptions } from './builtin.ts';
export type { Preprocessor, PreprocessorKind } from './preprocessor.ts';
export { ControlError } from './errors.ts';
export type { ControlErrorCode } from './errors.ts';
export type { RgbImage } from './rgb-image.ts';
