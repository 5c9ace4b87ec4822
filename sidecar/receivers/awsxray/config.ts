// Config of the `awsxray` receiver: the collector-contrib awsxrayreceiver's fields (its own
// `endpoint` and `transport`, plus `proxy_server` from internal/aws/proxy), so a collector config
// carries over. Defaults differ in one place on purpose: every listener binds 127.0.0.1, not
// 0.0.0.0, because segments arrive from the pod over loopback only.
import { parseDaemonAddress } from '../../aws/daemon-address.ts';
import { bool, endpoint, int, object, oneOf, string, url, withDefault } from '../../config/schema.ts';

const optionalUrl = url();

export const proxyTlsConfig = object({
  /** Skip verification of X-Ray's certificate (the collector's proxy maps `insecure` to InsecureSkipVerify). Tests only. */
  insecure: withDefault(bool(), false),
  /** Server name (SNI and certificate check) to use instead of the endpoint's host name. */
  server_name_override: withDefault(string(), ''),
  /** PEM file of CAs to trust instead of Node's bundled roots (a TLS-inspecting egress proxy). */
  ca_file: withDefault(string(), ''),
});

export const proxyServerConfig = object({
  /** TCP address of the sampling API (`POST /GetSamplingRules`, `POST /SamplingTargets`). */
  endpoint: withDefault(endpoint(), '127.0.0.1:2000'),
  /** HTTP(S) proxy for the calls to X-Ray; empty = HTTPS_PROXY from the environment, else direct. */
  proxy_address: withDefault(string(), ''),
  tls: withDefault(proxyTlsConfig, proxyTlsConfig.defaultValue),
  /** Region of X-Ray; empty = AWS_DEFAULT_REGION, AWS_REGION, then (unless local_mode) ECS/EC2 metadata. */
  region: withDefault(string(), ''),
  /** Role to assume (STS) on top of the default credential chain. */
  role_arn: withDefault(string(), ''),
  /** X-Ray endpoint override, e.g. a VPC endpoint; empty = https://<service_name>.<region>.amazonaws.com. */
  aws_endpoint: withDefault({ expected: optionalUrl.expected, decode: (v, p, e) => (v === '' ? '' : optionalUrl.decode(v, p, e)) }, ''),
  /** True: never ask the ECS/EC2 metadata endpoints for the region (off AWS, or in tests). */
  local_mode: withDefault(bool(), false),
  /** SigV4 signing name and endpoint host prefix. */
  service_name: withDefault(string({ nonEmpty: true }), 'xray'),
  /** Extra attempts at the EC2 metadata endpoint when looking up the region. */
  imds_retries: withDefault(int({ min: 0, max: 10 }), 1),
  /**
   * tracebridge: relay to this X-Ray daemon (AWS_XRAY_DAEMON_ADDRESS forms; its TCP address) instead
   * of X-Ray, unsigned: the daemon signs with its own credentials. For apps whose segments went to a
   * central daemon before the sidecar took over. Empty = relay to X-Ray.
   */
  daemon_address: withDefault(
    {
      expected: 'host:port or "udp:host:port tcp:host:port"',
      decode(value, path, errors) {
        if (value === undefined || value === null || value === '') return '';
        if (typeof value === 'string' && parseDaemonAddress(value) !== undefined) return value;
        errors.add(path, `expected host:port or "udp:host:port tcp:host:port" (the AWS_XRAY_DAEMON_ADDRESS forms), got ${JSON.stringify(value)}`);
        return undefined;
      },
    },
    '',
  ),
});

export const awsXrayReceiverConfig = object({
  /** UDP address for segment documents (the X-Ray daemon's 2000). */
  endpoint: withDefault(endpoint(), '127.0.0.1:2000'),
  /** X-Ray SDKs send segments over UDP only; the collector accepts nothing else either. */
  transport: withDefault(oneOf(['udp']), 'udp'),
  /** The sampling proxy always runs, as in the collector (its default config sets it). */
  proxy_server: withDefault(proxyServerConfig, proxyServerConfig.defaultValue),
});

export type ProxyServerConfig = typeof proxyServerConfig.defaultValue;
export type AwsXrayReceiverConfig = typeof awsXrayReceiverConfig.defaultValue;
