import { App } from 'aws-cdk-lib';
import { defineRunnelApp } from './runnel-app';

/**
 * `npx cdk deploy [-c stageName=prod] [-c domainName=… -c certificateArn=…]
 * [-c corsOrigins=https://a.example,https://b.example] [-c alarmEmail=ops@example.com]`
 * See docs/deploy.md for every parameter.
 */
defineRunnelApp(new App());
