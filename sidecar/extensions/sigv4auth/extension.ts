// The `sigv4auth` extension signs HTTP requests with AWS Signature V4 for exporters that name it
// in `auth: { authenticator: sigv4auth }` (otlphttp to X-Ray's OTLP endpoint). It wraps
// sidecar/aws/sigv4.ts, whose AWS modules load on first use. With `assume_role` the role is
// assumed through STS in `sts_region` on top of the default credential chain.
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { createAwsSigner, type AwsSigner } from '../../aws/sigv4.ts';
import type { Component, CreateSettings } from '../../component/component.ts';
import { PermanentError } from '../../component/errors.ts';
import type { HttpRequestAuthenticator, HttpRequestToSign } from '../../component/auth.ts';
import type { Sigv4authConfig } from './config.ts';

import { inferFromHost } from '../../aws/endpoints.ts';

export { inferFromHost };

export class Sigv4authExtension implements Component, HttpRequestAuthenticator {
  private readonly cfg: Sigv4authConfig;
  private readonly settings: CreateSettings;
  private readonly credentials: AwsCredentialIdentityProvider | undefined;
  /** One signer per (service, region): credentials are resolved and cached once per signer. */
  private readonly signers = new Map<string, AwsSigner>();

  /** `credentials` replaces the default chain (tests, special setups). */
  constructor(settings: CreateSettings, cfg: Sigv4authConfig, credentials?: AwsCredentialIdentityProvider) {
    this.settings = settings;
    this.cfg = cfg;
    this.credentials = credentials ?? (cfg.assume_role.arn !== undefined ? assumeRoleProvider(cfg) : undefined);
  }

  start(): Promise<void> {
    this.settings.logger.info(
      { region: this.cfg.region ?? '(from URL)', service: this.cfg.service ?? '(from URL)', assume_role: this.cfg.assume_role.arn },
      'sigv4auth ready',
    );
    return Promise.resolve();
  }

  private signerFor(url: URL): AwsSigner {
    const inferred = inferFromHost(url.hostname);
    const region = this.cfg.region ?? inferred?.region;
    const service = this.cfg.service ?? inferred?.service;
    if (region === undefined || service === undefined) {
      // A config gap, not a transient failure: retrying cannot help.
      throw new PermanentError(`sigv4auth: cannot tell the ${region === undefined ? 'region' : 'service'} for ${url.host}; set it in the extension's config`);
    }
    const key = `${service}/${region}`;
    let signer = this.signers.get(key);
    if (signer === undefined) {
      signer = createAwsSigner({ region, service, credentials: this.credentials });
      this.signers.set(key, signer);
    }
    return signer;
  }

  authenticateHttpRequest(req: HttpRequestToSign): Promise<Record<string, string>> {
    return this.signerFor(req.url).sign({ method: req.method, url: req.url, headers: req.headers, body: req.body });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The default chain's credentials exchanged for the role's, through STS in `sts_region`
 * (sigv4.ts's own roleArn option always uses the signing region). Modules load on first use.
 */
function assumeRoleProvider(cfg: Sigv4authConfig): AwsCredentialIdentityProvider {
  let provider: Promise<AwsCredentialIdentityProvider> | undefined;
  const load = async (): Promise<AwsCredentialIdentityProvider> => {
    const [{ defaultProvider }, { fromTemporaryCredentials }] = await Promise.all([
      import('@aws-sdk/credential-provider-node'),
      import('@aws-sdk/credential-providers'),
    ]);
    return fromTemporaryCredentials({
      masterCredentials: defaultProvider(),
      params: { RoleArn: cfg.assume_role.arn!, RoleSessionName: cfg.assume_role.session_name },
      clientConfig: { region: cfg.assume_role.sts_region ?? cfg.region },
    });
  };
  return async (props) => {
    provider ??= load();
    return (await provider)(props);
  };
}
