import { copyFileSync, cpSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { AssetHashType, DockerImage, type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { functionBuildOptions } from './bundling';

/** Lambda's Node.js runtime: the major version of `engines` and of the `node` the npm scripts run. */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_22_X;

export interface RunnelFunctionProps {
  /** Absolute path of the handler module (under `functions/`). */
  entry: string;
  /** Absolute path of the repository root (package.json and package-lock.json). */
  projectRoot: string;
  description: string;
  /** @default 1024 */
  memorySize?: number;
  timeout: Duration;
  /** Names only (tables, bucket, secret ARN): never a secret value. */
  environment?: Record<string, string>;
  /** @default false */
  tracing?: boolean;
  /** @default logs.RetentionDays.ONE_MONTH */
  logRetention?: logs.RetentionDays;
  /** @default - no limit */
  reservedConcurrentExecutions?: number;
  /**
   * Directories copied into the bundle beside the handler, as { name in the bundle: absolute
   * source path } (the API function carries the web console's build). Bundling fails when a
   * source has no index.html, so a deployment never ships without its console.
   */
  bundleDirs?: Record<string, string>;
  /** Files copied into the bundle beside the handler, as { name in the bundle: absolute source path }; bundling fails if one is missing. */
  bundleFiles?: Record<string, string>;
}

/** The service name and metrics namespace of every function's log and metric lines; the dashboard reads the metrics back. */
export const METRICS_SERVICE_NAME = 'runnel';
export const METRICS_NAMESPACE = 'Runnel';

/** Names that look like they hold a secret value; the environment is visible to anyone who can read the function. */
const SECRET_LIKE = /(SECRET|PASSWORD|TOKEN|PRIVATE)(?!_ARN$|_NAME$)|_KEY$/;

const assertEsbuildInstalled = (projectRoot: string) => {
  try {
    createRequire(`${projectRoot}/package.json`).resolve('esbuild');
  } catch {
    // Bundling runs the local esbuild, never Docker.
    throw new Error('esbuild is not installed locally (npm ci installs it); bundling never uses Docker.');
  }
};

/**
 * Bundles the handler with the local esbuild (bundling.ts: `index.mjs` and its chunks),
 * then copies the extra directories and files beside it; fails when one is missing.
 */
const bundleFunction = (props: RunnelFunctionProps, outputDir: string): boolean => {
  buildSync({ ...functionBuildOptions(props.entry, outputDir), absWorkingDir: props.projectRoot });
  for (const [name, source] of Object.entries(props.bundleDirs ?? {})) {
    if (!existsSync(join(source, 'index.html'))) throw new Error(`${source} is not built (npm ci builds it)`);
    cpSync(source, join(outputDir, name), { recursive: true });
  }
  for (const [name, source] of Object.entries(props.bundleFiles ?? {})) {
    if (!existsSync(source)) throw new Error(`${source} is missing`);
    copyFileSync(source, join(outputDir, name));
  }
  return true;
};

/**
 * Every Runnel function: arm64, Node.js 22, a minified ESM bundle with source maps
 * (`index.mjs` and the chunks it imports on first use), its
 * own log group with a retention, optional X-Ray tracing, and a role that starts with
 * nothing but writing to that log group. Access to tables, bucket and secret is granted
 * per function (see `access.ts`).
 */
export class RunnelFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: RunnelFunctionProps) {
    for (const name of Object.keys(props.environment ?? {})) {
      if (SECRET_LIKE.test(name)) throw new Error(`${id}: environment variable ${name} looks like a secret value`);
    }
    assertEsbuildInstalled(props.projectRoot);

    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role of our own instead of AWSLambdaBasicExecutionRole (logs:* on every log group).
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${id}: runs the function; only the grants its code uses`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );

    super(scope, id, {
      code: lambda.Code.fromAsset(props.projectRoot, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never pulled: local bundling either succeeds or throws.
          image: DockerImage.fromRegistry('runnel-bundles-locally'),
          local: { tryBundle: (outputDir) => bundleFunction(props, outputDir) },
        },
      }),
      handler: 'index.handler',
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout,
      role,
      logGroup,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        RUNNEL_SERVICE_NAME: METRICS_SERVICE_NAME,
        RUNNEL_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
    });
  }
}
