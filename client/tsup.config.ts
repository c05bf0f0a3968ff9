import { defineConfig } from 'tsup';

/** ESM + declarations for the core and the kafkajs facade; no runtime dependencies to bundle. */
export default defineConfig({
  entry: { index: 'src/index.ts', kafkajs: 'src/kafkajs.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  sourcemap: true,
  splitting: true,
  treeshake: true,
});
