// The page, bundled at build time into dist/page (served by the dashboard listener; nothing fetched from elsewhere).
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/page',
  base: './',
  logLevel: 'warn',
  build: { outDir: '../../dist/page', emptyOutDir: true, target: 'es2022', reportCompressedSize: false, chunkSizeWarningLimit: 200 },
});
