// The page, bundled at build time into dist/page (served by the listeners; nothing fetched from elsewhere).
// Paths from this file, so the root build (`pnpm build`, from the repository root) and `build:page` agree.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('./src/page', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: { outDir: fileURLToPath(new URL('./dist/page', import.meta.url)), emptyOutDir: true, target: 'es2022', reportCompressedSize: false, chunkSizeWarningLimit: 200 },
});
