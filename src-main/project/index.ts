// The project store's public surface.
export { Project, PROJECT_EXTENSION, type ProjectInit, type CreateOptions, type OpenOptions } from './project.ts';
export { lockPathFor, readLock, type LockInfo } from './lock.ts';
export { isSqliteDamage } from './damage.ts';
export { ProjectError, isProjectError, type ProjectErrorCode } from './errors.ts';
export { paramsHash, canonicalJson } from './hash.ts';
export {
  settingsSchema,
  defaultSettings,
  parseSettings,
  type ProjectSettings,
  type SettingsPatch,
} from './settings.ts';
export {
  MAX_FRAMES,
  MAX_DIMENSION,
  sourceProbeSchema,
  sourceWarnings,
  workingGeometrySchema,
  type SourceProbe,
  type AudioStream,
  type WorkingGeometry,
  type SourceFile,
  type SourceRecord,
  type SourceResolution,
} from './source.ts';
export type { HashFile } from './locate-source.ts';
export { keyframeState, type Keyframe, type KeyframeOrigin, type CurrentParamsHash } from './keyframes.ts';
export type { Render, RenderInput, RenderTag } from './renders.ts';
export type { JobRecord, NewJob, JobPatch } from './jobs.ts';
export type { CacheEntry } from './cache.ts';
export type { ShotCuts } from './cuts-store.ts';
export { APPLICATION_ID, SCHEMA_VERSION, migrations, type Migration } from './schema.ts';
