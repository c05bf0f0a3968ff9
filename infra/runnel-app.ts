import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readDeployConfig } from './config';
import { RunnelStack } from './stack';

/**
 * Adds Runnel to a CDK app: reads and checks the context (bad values throw here, before
 * anything is built or bundled), adds the stack, and runs cdk-nag's AwsSolutions checks
 * on it; every finding that is not acknowledged with a reason fails the synth.
 */
export const defineRunnelApp = (app: App): RunnelStack => {
  const config = readDeployConfig((key) => app.node.tryGetContext(key));
  const stack = new RunnelStack(app, `Runnel-${config.stageName}`, {
    config,
    description: `Runnel (${config.stageName}): serverless event streaming on Lambda, DynamoDB and S3`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    tags: { application: 'runnel', stage: config.stageName },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
};
