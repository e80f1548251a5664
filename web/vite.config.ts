import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// Built with `vite build web`, so the root (and `dist`) are this folder. Everything is bundled: the dashboard
// must work offline, with no CDN and no external URL.
export default defineConfig({
  base: '/',
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets' },
});
