// Preload of the sandboxed renderer. Bundled to a classic CommonJS script by vite.config.ts:
// sandboxed preloads cannot be ES modules, and `require` is the sandbox's own loader (which
// also keeps the type check independent of the optional `electron` package).
import type { ElectronPreloadLike } from './electron-types.ts';
import { exposeApi } from './preload-expose.ts';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const electron = require('electron') as ElectronPreloadLike;
exposeApi(electron);
