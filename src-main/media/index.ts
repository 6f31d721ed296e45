// The media pipeline's public surface: locate ffmpeg, probe, geometry, frame-accurate decode,
// thumbnails, PNG, MP4 export. Everything runs ffmpeg through process.ts.
export { MediaError, MEDIA_ERROR_CODES, isMediaError, type MediaErrorCode } from './errors.ts';
export { locateTools, FFMPEG_FIX, type MediaTools, type LocateOptions } from './locate.ts';
export { probeVideo, type VideoProbe, type AudioStreamInfo, type ProbeOptions } from './probe.ts';
export { sourceInputArgs, SOURCE_DEMUXERS, refusedSourceError } from './sniff.ts';
export { fileContentHash } from './hash.ts';
export { workingGeometry, previewGeometry, cropScaleFilter, type WorkingGeometry, type GeometryOptions, type Crop } from './geometry.ts';
export {
  decodeFrames, decodeFrame, type DecodeOptions, type DecodeFramesOptions, type FrameRange, type DecodeSource, type DecodeGeometry,
} from './decode.ts';
export { thumbnailStrip, thumbnailFrames, type ThumbnailStrip, type ThumbnailOptions } from './thumbnails.ts';
export { encodePng, encodePngAsync, decodePng, toRgb, type DecodedImage, type Channels } from './png.ts';
export { encodeMp4, type EncodeMp4Job, type EncodeOptions, type EncodeProgress, type AudioSource } from './encode.ts';
export { prepareOutput, type PendingOutput } from './output.ts';
export { spawnTool, runTool, type RunningTool, type ToolOptions, type RunResult, type ToolFailure } from './process.ts';
export { type Rational, parseRational, formatRational, rational } from './rational.ts';
export { timelineFilter, frameTime } from './timeline.ts';
