// Where the sampling proxy sends its calls: the region, found as the collector's proxy finds it
// (internal/aws/proxy/conn.go resolveRegion): config, then AWS_DEFAULT_REGION, then AWS_REGION,
// then, unless local_mode, the ECS container metadata file and the EC2 instance metadata service.
import { readTextFile } from '../../runtime/read-text.ts';
import type { Env } from '../../config/load.ts';
// node:http by process.getBuiltinModule, not an ES import: importing it reads every export, and its
// WebSocket getter loads undici with node:tls and node:http2 (6.6 MiB of private memory at idle).
const http = process.getBuiltinModule('node:http');

export interface RegionResult {
  region: string | undefined;
  /** Where it came from, or why there is none; for the start-up log. */
  source: string;
}

const IMDS_HOST = '169.254.169.254';
const IMDS_TIMEOUT_MS = 1000;
const REGION = /^[a-z0-9-]+$/;

export interface RegionLookupOptions {
  region: string;
  localMode: boolean;
  imdsRetries: number;
  env: Env;
  /** Tests replace the metadata service. */
  imdsRegion?: () => Promise<string>;
}

export async function resolveRegion(opts: RegionLookupOptions): Promise<RegionResult> {
  if (opts.region !== '') return { region: opts.region, source: 'config' };
  for (const name of ['AWS_DEFAULT_REGION', 'AWS_REGION'] as const) {
    const v = opts.env[name]?.trim();
    if (v) return { region: v, source: name };
  }
  if (opts.localMode) return { region: undefined, source: 'no region in config or environment (local_mode: metadata endpoints not asked)' };
  const ecs = await ecsRegion(opts.env).catch(() => undefined);
  if (ecs !== undefined) return { region: ecs, source: 'ECS container metadata file' };
  if (opts.env.AWS_EC2_METADATA_DISABLED?.trim().toLowerCase() === 'true') {
    return { region: undefined, source: 'no region in config or environment; EC2 metadata disabled (AWS_EC2_METADATA_DISABLED)' };
  }
  const lookup = opts.imdsRegion ?? imdsRegion;
  let lastError = '';
  for (let attempt = 0; attempt <= opts.imdsRetries; attempt++) {
    try {
      const region = (await lookup()).trim();
      if (REGION.test(region)) return { region, source: 'EC2 instance metadata' };
      lastError = `unexpected answer ${JSON.stringify(region)}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
  }
  return { region: undefined, source: `no region in config, environment or instance metadata (${lastError})` };
}

/** ECS_ENABLE_CONTAINER_METADATA=true makes the agent write a file whose TaskARN names the region. */
async function ecsRegion(env: Env): Promise<string | undefined> {
  if (env.ECS_ENABLE_CONTAINER_METADATA?.toLowerCase() !== 'true' || !env.ECS_CONTAINER_METADATA_FILE) return undefined;
  const meta = JSON.parse(await readTextFile(env.ECS_CONTAINER_METADATA_FILE)) as { TaskARN?: unknown };
  const region = typeof meta.TaskARN === 'string' ? meta.TaskARN.split(':')[3] : undefined;
  return region !== undefined && REGION.test(region) ? region : undefined;
}

function imdsCall(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: IMDS_HOST, path, method, headers, timeout: IMDS_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        // A region or a token is tiny; anything large is not the metadata service.
        if (body.length + c.length <= 4096) body += c;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`instance metadata answered ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('instance metadata did not answer')));
    req.on('error', reject);
    req.end();
  });
}

/** IMDSv2: a session token, then the placement region. */
async function imdsRegion(): Promise<string> {
  const token = await imdsCall('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' });
  return imdsCall('GET', '/latest/meta-data/placement/region', { 'X-aws-ec2-metadata-token': token });
}
