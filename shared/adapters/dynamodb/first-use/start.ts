/**
 * For the bundle only: the adapters loaded on their first call (the modules here, imported
 * with `import()` by aws.ts) import this one, which imports the adapters a start loads, so
 * that esbuild keeps those in one chunk (see shared/app/first-use/start.ts).
 */
import '../../aws';
