// SigV4 signing shared by everything that talks to AWS: the sigv4auth extension (X-Ray's OTLP
// endpoint), the awsxray receiver's sampling proxy and the awsxray exporter. Credentials come from
// the AWS SDK's default chain (env, EKS Pod Identity, IRSA web identity, ECS, instance role), or an
// assumed role on top of it. AWS modules load on first use so an unconfigured sidecar pays nothing.
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { SignatureV4 } from '@smithy/signature-v4';

export interface SignerOptions {
  region: string;
  /** Signing name: `xray` for X-Ray (OTLP endpoint and API). */
  service: string;
  /** Assume this role with the default chain's credentials. */
  roleArn?: string;
  sessionName?: string;
  /** Tests and special setups inject credentials directly. */
  credentials?: AwsCredentialIdentityProvider;
}

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

export interface AwsSigner {
  readonly region: string;
  /** Returns the headers to send: the given ones plus authorization, x-amz-date, x-amz-content-sha256, ... */
  sign(req: SignableRequest): Promise<Record<string, string>>;
}

async function credentialProvider(opts: SignerOptions): Promise<AwsCredentialIdentityProvider> {
  if (opts.credentials !== undefined) return opts.credentials;
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const base = defaultProvider();
  if (opts.roleArn === undefined || opts.roleArn === '') return base;
  const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
  return fromTemporaryCredentials({
    masterCredentials: base,
    params: { RoleArn: opts.roleArn, RoleSessionName: opts.sessionName ?? 'tracebridge' },
    clientConfig: { region: opts.region },
  });
}

export function createAwsSigner(opts: SignerOptions): AwsSigner {
  let signer: Promise<SignatureV4> | undefined;
  const load = async () => {
    const [{ SignatureV4 }, { Hash }, credentials] = await Promise.all([
      import('@smithy/signature-v4'),
      import('@smithy/hash-node'),
      credentialProvider(opts),
    ]);
    return new SignatureV4({
      service: opts.service,
      region: opts.region,
      credentials,
      sha256: Hash.bind(null, 'sha256'),
      applyChecksum: true,
    });
  };
  return {
    region: opts.region,
    async sign(req) {
      signer ??= load();
      const s = await signer;
      const headers: Record<string, string> = { ...req.headers, host: req.url.host };
      const query: Record<string, string> = {};
      req.url.searchParams.forEach((v, k) => (query[k] = v));
      const signed = await s.sign({
        method: req.method,
        protocol: req.url.protocol,
        hostname: req.url.hostname,
        port: req.url.port === '' ? undefined : Number(req.url.port),
        path: req.url.pathname,
        query,
        headers,
        body: req.body,
      });
      return signed.headers;
    },
  };
}
