// The `aws` object, `origin` and `service`, after the collector's makeAws (translator/aws.go),
// determineAwsOrigin (segment.go) and makeService (service.go). The resource's part is computed
// once per ResourceSpans (`resourceInfo`); each span adds its AWS SDK call fields.
// Deviation: span attributes that would fill the `aws` object stay in metadata when the resource
// names another cloud provider and no `aws` object is written (the collector drops them).
import type { AnyValue } from '../../pdata/otlp-schema.ts';
import { resourceEntries, type ResourceEntry } from './annotations.ts';
import { asStringList, asText, type SpanAttributes } from './attributes.ts';
import type { AwsData } from '../../aws/xray-segment.ts';

export const ORIGIN_EC2 = 'AWS::EC2::Instance';
export const ORIGIN_ECS = 'AWS::ECS::Container';
export const ORIGIN_ECS_EC2 = 'AWS::ECS::EC2';
export const ORIGIN_ECS_FARGATE = 'AWS::ECS::Fargate';
export const ORIGIN_BEANSTALK = 'AWS::ElasticBeanstalk::Environment';
export const ORIGIN_EKS = 'AWS::EKS::Container';
export const ORIGIN_APP_RUNNER = 'AWS::AppRunner::Service';

/** What every span of one resource shares. */
export interface ResourceInfo {
  attributes: ReadonlyMap<string, AnyValue>;
  /** The attributes as `otel.resource.<key>` metadata entries (segments only). */
  entries: readonly ResourceEntry[];
  /** `cloud.provider` absent or `aws`: an `aws` object is written. */
  isAws: boolean;
  origin: string | undefined;
  service: { version: string } | undefined;
  sdkLanguage: string;
  /** The resource's fields of the `aws` object (no span fields); undefined when not AWS. */
  aws: AwsData | undefined;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

/** Drops undefined fields so the JSON carries only what is known. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function resourceInfo(attributes: ReadonlyMap<string, AnyValue>, configLogGroups: readonly string[]): ResourceInfo {
  const t = (k: string) => {
    const v = attributes.get(k);
    return v === undefined ? undefined : nonEmpty(asText(v));
  };
  const provider = t('cloud.provider');
  const isAws = provider === undefined || provider === 'aws';
  const platform = t('cloud.platform');
  const version = attributes.has('service.version') ? t('service.version') : t('container.image.tag');
  const hasVersion = attributes.has('service.version') || attributes.has('container.image.tag');
  const info: ResourceInfo = {
    attributes,
    entries: resourceEntries(attributes),
    isAws,
    origin: attributes.size === 0 || !isAws ? undefined : originOf(platform, t('aws.ecs.launchtype')),
    service: hasVersion ? { version: version ?? '' } : undefined,
    sdkLanguage: t('telemetry.sdk.language') ?? '',
    aws: undefined,
  };
  if (!isAws) return info;

  const zone = t('cloud.availability_zone');
  const hostId = t('host.id');
  const containerId = t('container.id');
  const clusterName = t('k8s.cluster.name');
  const aws: AwsData = {};
  const account = t('cloud.account.id');
  if (account !== undefined) aws.account_id = account;
  if (platform === 'aws_ec2' || hostId !== undefined) {
    aws.ec2 = compact({ instance_id: hostId, availability_zone: zone, instance_size: t('host.type'), ami_id: t('host.image.id') });
  }
  if (platform === 'aws_ecs') {
    aws.ecs = compact({
      container: t('container.name'),
      container_id: containerId,
      task_arn: t('aws.ecs.task.arn'),
      task_family: t('aws.ecs.task.family'),
      cluster_arn: t('aws.ecs.cluster.arn'),
      container_arn: t('aws.ecs.container.arn'),
      availability_zone: zone,
      launch_type: t('aws.ecs.launchtype'),
    });
  }
  const deployId = t('service.instance.id');
  if (platform === 'aws_elastic_beanstalk' && deployId !== undefined) {
    const n = Number.parseInt(deployId, 10);
    aws.elastic_beanstalk = compact({ environment_name: t('service.namespace'), version_label: t('service.version'), deployment_id: Number.isNaN(n) ? 0 : n });
  }
  if (platform === 'aws_eks' || clusterName !== undefined) {
    aws.eks = compact({ cluster_name: clusterName, pod: t('k8s.pod.name'), container_id: containerId });
  }
  const logs = logGroups(attributes, configLogGroups);
  if (logs.length > 0) aws.cloudwatch_logs = logs;
  const sdkName = t('telemetry.sdk.name');
  const language = t('telemetry.sdk.language');
  aws.xray = compact({
    sdk: sdkName !== undefined && language !== undefined ? `${sdkName} for ${language}` : sdkName,
    sdk_version: t('telemetry.sdk.version'),
    auto_instrumentation: t('telemetry.auto.version') !== undefined,
  });
  info.aws = aws;
  return info;
}

function originOf(platform: string | undefined, launchType: string | undefined): string | undefined {
  switch (platform) {
    case 'aws_app_runner':
      return ORIGIN_APP_RUNNER;
    case 'aws_eks':
      return ORIGIN_EKS;
    case 'aws_elastic_beanstalk':
      return ORIGIN_BEANSTALK;
    case 'aws_ecs':
      return launchType === 'ec2' ? ORIGIN_ECS_EC2 : launchType === 'fargate' ? ORIGIN_ECS_FARGATE : ORIGIN_ECS;
    case 'aws_ec2':
      return ORIGIN_EC2;
    default:
      return undefined;
  }
}

/** ARNs first (group name from the ARN), then names, then the config's `aws_log_groups` (collector README order). */
function logGroups(attributes: ReadonlyMap<string, AnyValue>, configLogGroups: readonly string[]): { log_group: string; arn?: string }[] {
  const arns = attributes.get('aws.log.group.arns');
  const arnList = arns === undefined ? [] : asStringList(arns, '&');
  if (arnList.length > 0) return arnList.map((arn) => ({ log_group: logGroupOfArn(arn), arn }));
  const names = attributes.get('aws.log.group.names');
  const nameList = names === undefined ? [] : asStringList(names, '&');
  if (nameList.length > 0) return nameList.map((log_group) => ({ log_group }));
  return configLogGroups.map((log_group) => ({ log_group }));
}

/** arn:aws:logs:<region>:<account>:log-group:<name>[:*] → <name>. */
function logGroupOfArn(arn: string): string {
  const parts = arn.split(':');
  return parts.length >= 7 ? parts[6]! : arn;
}

/** The span's AWS fields merged over the resource's; undefined when the resource is not on AWS. */
export function makeAws(res: ResourceInfo, attrs: SpanAttributes): AwsData | undefined {
  if (res.aws === undefined) return undefined;
  const aws: AwsData = { ...res.aws };
  // rpc.method is taken even when aws.operation wins, as in the collector.
  const rpcMethod = attrs.take('rpc.method');
  const operation = attrs.take('aws.operation') ?? rpcMethod;
  if (operation !== undefined && operation !== '') aws.operation = operation;
  const account = attrs.take('aws.account_id');
  if (account !== undefined && account !== '') aws.account_id = account;
  setIf(aws, 'region', attrs.take('aws.region'));
  setIf(aws, 'request_id', either(attrs.take('aws.request_id'), attrs.take('aws.requestId')));
  setIf(aws, 'queue_url', either(attrs.take('aws.queue_url'), attrs.take('aws.queue.url')));
  setIf(aws, 'table_name', either(attrs.take('aws.table_name'), attrs.take('aws.table.name')));
  // Semantic-convention names win (and stay in metadata, as in the collector).
  setIf(aws, 'queue_url', attrs.text('messaging.url'));
  const tables = attrs.get('aws.dynamodb.table_names');
  if (tables !== undefined) {
    const list = asStringList(tables);
    if (list.length === 1) aws.table_name = list[0]!;
    else if (list.length > 1) {
      delete aws.table_name;
      aws.table_names = list;
    }
  }
  return aws;
}

/** Both spellings are taken (neither is repeated in metadata); the first wins. */
function either(a: string | undefined, b: string | undefined): string | undefined {
  return a ?? b;
}

function setIf(aws: AwsData, key: 'region' | 'request_id' | 'queue_url' | 'table_name', v: string | undefined): void {
  if (v !== undefined && v !== '') aws[key] = v;
}
