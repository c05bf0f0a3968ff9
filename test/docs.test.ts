import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The project's docs stand alone: every relative link resolves, and nothing points outside the repo. */
const root = resolve(import.meta.dirname, '..');
const markdown = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

const sourceFiles = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|md|json)$/.test(e.name) ? [path] : [];
  });

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

describe('docs', () => {
  it.each(markdown)('%s: every relative link and anchor resolves', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!target || /^[a-z]+:/.test(target)) continue;
      const [path, hash] = target.split('#') as [string, string | undefined];
      const resolved = path ? resolve(root, dirname(file), path) : join(root, file);
      if (!existsSync(resolved)) {
        broken.push(target);
        continue;
      }
      if (hash && resolved.endsWith('.md')) {
        const headings = [...readFileSync(resolved, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1] ?? ''));
        if (!headings.includes(hash)) broken.push(target);
      }
    }
    expect(broken).toEqual([]);
  });

  it('cites no document that is not in the repository', () => {
    const files = [
      'README.md',
      ...['docs', 'shared', 'functions', 'local', 'infra', 'test', 'bench', 'scripts'].flatMap(sourceFiles),
    ];
    const citing = files.filter((f) =>
      /\b(API|DESIGN|CLIENTS|STYLE)\.md\b|\.\.\/shared\//.test(readFileSync(join(root, f), 'utf8')),
    );
    expect(citing.filter((f) => f !== 'test/docs.test.ts')).toEqual([]);
  });

  it('has a LICENSE matching package.json', () => {
    const license = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).license;
    expect(license).toBe('Apache-2.0');
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toContain(
      'Apache License\n                           Version 2.0',
    );
  });
});
