import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { defineRunnelApp } from '../../infra/runnel-app';
import type { RunnelStack } from '../../infra/stack';

/** The part of CDK's validation report (validation-report.json) the tests read. */
export interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
    suppressedViolations: {
      ruleName: string;
      acknowledgedId: string;
      reason: string;
      violatingConstructs: { constructPath: string }[];
    }[];
  }[];
}

export interface Synthesized {
  stack: RunnelStack;
  template: Template;
  /** cdk-nag's findings, from the same synth. */
  report: ValidationReport;
}

/** Synthesis can take a while on a busy machine: bundling runs esbuild. */
export const SYNTH_TIMEOUT_MS = 180_000;

/**
 * Synthesizes the Runnel app with this context, as `cdk synth` does: the functions are
 * bundled by the local esbuild and cdk-nag's checks run. Call it once per context in
 * beforeAll. `bundle: false` skips esbuild (the template is the same but for asset hashes),
 * for a second context in the same file.
 */
export const synthRunnel = (
  context: Record<string, unknown> = {},
  {
    bundle = true,
    onAssembly,
  }: {
    bundle?: boolean;
    /** Reads the cloud assembly (assets included) before it is removed. */
    onAssembly?: (directory: string, template: Template) => void;
  } = {},
): Synthesized => {
  const app = new App({ context: bundle ? context : { ...context, 'aws:cdk:bundling-stacks': [] } });
  const stack = defineRunnelApp(app);
  const assembly = app.synth();
  try {
    const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
    onAssembly?.(assembly.directory, template);
    return { stack, template, report };
  } finally {
    rmSync(assembly.directory, { recursive: true, force: true });
  }
};

/** Resources of one type as [logicalId, resource] pairs. */
export const resourcesOf = (template: Template, type: string): [string, any][] =>
  Object.entries(template.findResources(type));

/** The one resource of this type whose logical id starts with this prefix (construct path, no hash). */
export const resourceNamed = (template: Template, type: string, prefix: string): [string, any] => {
  const found = resourcesOf(template, type).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${found.length}`);
  return found[0] as [string, any];
};
