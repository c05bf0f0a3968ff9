import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readDeployConfig } from './config';
import { RunnelStack } from './stack';

/**
 * `npx cdk deploy [-c stageName=prod] [-c domainName=… -c certificateArn=…]
 * [-c corsOrigins=https://a.example,https://b.example] [-c alarmEmail=ops@example.com]`
 * See docs/deploy.md.
 */
const app = new App();
const config = readDeployConfig((key) => app.node.tryGetContext(key));

new RunnelStack(app, `Runnel-${config.stageName}`, {
  config,
  description: `Runnel (${config.stageName}): serverless event streaming on Lambda, DynamoDB and S3`,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  tags: { application: 'runnel', stage: config.stageName },
});

// Every AwsSolutions finding that is not suppressed with a reason fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
