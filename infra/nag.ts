import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { RunnelStack } from './stack';

/**
 * The cdk-nag AwsSolutions findings Runnel accepts on purpose, each on the one construct
 * it concerns and with its reason. Anything else the checks find fails `cdk synth` and
 * the test suite (test/infra/nag.test.ts).
 */
export interface NagAcknowledgment {
  construct: IConstruct;
  rule: string;
  reason: string;
}

const rule = (id: string) => `AwsSolutions::AwsSolutions-${id}`;

export const nagAcknowledgments = (stack: RunnelStack): NagAcknowledgment[] => {
  const functions = [stack.apiFunction, stack.streams.function, stack.maintenanceFunction, stack.connectors.function];
  const list: NagAcknowledgment[] = [
    {
      construct: stack.storage.bucket,
      rule: rule('S1'),
      reason:
        'Only the Runnel functions read and write segment objects, through roles scoped to this bucket, and every API ' +
        "request is already in the API function's access log. Server access logs would add an unbounded second stream of log " +
        'objects; enable CloudTrail S3 data events instead when object-level audit is required.',
    },
    {
      construct: stack.operatorSecret,
      rule: rule('SMG4'),
      reason:
        'The operator key is a bearer key held by people and tools outside AWS; automatic rotation would revoke it ' +
        'with no way to hand out the new value. It is rotated by hand (docs/deploy.md, "Rotate the operator key").',
    },
  ];
  if (stack.http) {
    list.push({
      construct: stack.http.api.node.findChild('DefaultRoute'),
      rule: rule('APIG4'),
      reason:
        'The API authenticates and authorizes every request itself: tenant API keys (hashed, compared in constant ' +
        'time, with per-key permissions) and the operator key, checked in the function before any storage call. ' +
        'An API Gateway authorizer would cost a second invocation per request to check the same keys.',
    });
  }
  for (const fn of functions) {
    list.push({
      construct: fn,
      rule: rule('L1'),
      reason:
        'Node.js 22 is the runtime the bundle targets (esbuild target node22) and is tested on; a newer runtime is a ' +
        'deliberate upgrade of both together.',
    });
    const policy = fn.role?.node.tryFindChild('DefaultPolicy');
    if (!policy) throw new Error(`${fn.node.id} has no role policy`);
    list.push({
      construct: policy,
      rule: rule(`IAM5[Resource::<${stack.getLogicalId(stack.storage.bucket.node.defaultChild as never)}.Arn>/*]`),
      reason:
        'Segment object keys are made per request (<retention class>/<tenant>/<topic>/<hour>/<uuid>.seg), so object ' +
        "actions need a key pattern. The pattern covers this bucket's objects only and the actions are listed one by " +
        'one (no s3:*).',
    });
    if (stack.tracing) {
      list.push({
        construct: policy,
        rule: rule('IAM5[Resource::*]'),
        reason:
          'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; ' +
          'AWS requires Resource "*" for them.',
      });
    }
  }
  const workerPolicy = stack.connectors.function.role?.node.tryFindChild('DefaultPolicy');
  if (!workerPolicy) throw new Error('the connector worker has no role policy');
  list.push({
    construct: workerPolicy,
    rule: rule('IAM5[Resource::arn:aws:iam::*:role/*]'),
    reason:
      "s3-sinks write to buckets in the tenants' own accounts through roles the tenants create, so their ARNs are " +
      'not known at deploy time. The statement allows sts:AssumeRole only, on roles only, only with an external id ' +
      "(the worker always sends the tenant's id, which the tenant's trust policy requires) and a runnel-connector- " +
      'session name; no other function may assume any role.',
  });
  return list;
};

export const acknowledgeNagFindings = (stack: RunnelStack): void => {
  for (const { construct, rule, reason } of nagAcknowledgments(stack)) {
    Validations.of(construct).acknowledge({ id: rule, reason });
  }
};
