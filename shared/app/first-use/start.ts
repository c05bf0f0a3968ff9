/**
 * For the bundle only: every module the API loads on first use (the modules here, imported
 * with `import()` by create-app.ts) imports this one, which imports what a start loads. It
 * runs nothing. esbuild puts a module shared by the start and by modules loaded on first
 * use in a chunk per combination of those that reach it; with every first-use module
 * reaching all of the start's code, that code is one chunk instead of about twenty small
 * ones, each a module to resolve, read, compile and link, with its own banner and import
 * list (docs/deploy.md, "Sizing and cold start").
 */
import '../create-app';
import '#shared/adapters/aws';
