// Builds the editor (src-renderer → dist/renderer) and, in the same `vite build`, the Electron
// preload as a classic CommonJS script (dist/preload/preload.cjs): sandboxed preloads cannot
// be ES modules. Also holds vitest's config for tests/renderer.
import { build, type Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

const root = import.meta.dirname;

function preloadBundle(): Plugin {
  let built = false;
  return {
    name: 'rerender-preload-bundle',
    apply: 'build',
    async closeBundle() {
      if (built) return;
      built = true;
      await build({
        configFile: false,
        root,
        logLevel: 'warn',
        build: {
          outDir: `${root}/dist/preload`,
          emptyOutDir: true,
          minify: false,
          sourcemap: false,
          target: 'node22',
          lib: { entry: `${root}/src-main/app/preload.ts`, formats: ['cjs'], fileName: () => 'preload.cjs' },
          rollupOptions: { external: ['electron'] },
        },
      });
    },
  };
}

export default defineConfig({
  root: `${root}/src-renderer`,
  base: './',
  plugins: [react(), preloadBundle()],
  build: {
    outDir: `${root}/dist/renderer`,
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
  },
  test: {
    root,
    include: ['tests/renderer/**/*.spec.{ts,tsx}'],
    environment: 'jsdom',
  },
});
