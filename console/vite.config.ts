import { defineConfig } from 'vite';

/** The console is served under /console by the Runnel app; assets get content-hashed names. */
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The app's CSP allows scripts and styles from 'self' only: nothing is inlined.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
