// Build for the three Electron bundles. The main process is ESM (package.json "type": "module"); the
// preload is one self-contained CommonJS file because a sandboxed preload can neither load ES modules
// nor require anything but 'electron', so its dependencies (zod, via the contract) are bundled in.
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // The export worker is an entry of its own: out/main/exportWorker.js, next to index.js, where
      // packetWorker.ts looks for it (relative to import.meta.url).
      lib: {
        entry: {
          index: resolve(import.meta.dirname, 'src/main/index.ts'),
          exportWorker: resolve(import.meta.dirname, 'src/main/export/exportWorker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      lib: { entry: resolve(import.meta.dirname, 'src/preload/index.ts') },
      rolldownOptions: {
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'src/renderer'),
    plugins: [react()],
    build: {
      outDir: 'out/renderer',
      rolldownOptions: { input: resolve(import.meta.dirname, 'src/renderer/index.html') },
    },
  },
});
