// aws-xray-sdk-core is CommonJS and keeps its state in module singletons (daemon address,
// sampler, rule cache, pollers). Each test file loads a fresh copy and unloads it afterwards, so
// no state leaks between files that share the mocha process.
import { createRequire } from 'node:module';
import type * as XRaySdk from 'aws-xray-sdk-core';

const require = createRequire(import.meta.url);
const SDK_DIR = '/node_modules/aws-xray-sdk-core/';

/** The sampling internals the SDK does not type (dist/lib/middleware/sampling/*). */
export interface SamplingRule {
  getName(): string;
  getRate(): number;
  everMatched(): boolean;
  reservoir: { quota?: number; TTL?: number };
}
export interface SamplingInternals {
  defaultSampler: { shouldSample(req: { host?: string; httpMethod?: string; urlPath?: string; serviceName?: string }): string | boolean; started: boolean };
  ruleCache: { getRules(): SamplingRule[]; loadTargets(t: object): void };
  connector: {
    fetchSamplingRules(cb: (err: Error | null, rules?: SamplingRule[]) => void): void;
    fetchTargets(rules: SamplingRule[], cb: (err: Error | null, targets?: Record<string, { rate: number; quota: number; interval: number }>) => void): void;
  };
  rulePoller: { poller?: NodeJS.Timeout };
  targetPoller: { poller?: NodeJS.Timeout };
}

export interface LoadedSdk {
  AWSXRay: typeof XRaySdk;
  sampling: SamplingInternals;
  /** Stops the SDK's pollers, puts the daemon address back and drops the module copy. */
  unload(): void;
}

function purge(): void {
  for (const key of Object.keys(require.cache)) if (key.includes(SDK_DIR)) delete require.cache[key];
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export function loadXRaySdk(daemonPort: number): LoadedSdk {
  // AWS_XRAY_DAEMON_ADDRESS would win over setDaemonAddress (and is read at module load).
  delete process.env.AWS_XRAY_DAEMON_ADDRESS;
  purge();
  const AWSXRay = require('aws-xray-sdk-core') as typeof XRaySdk;
  const lib = (p: string) => require(`aws-xray-sdk-core/dist/lib/${p}`) as unknown;
  AWSXRay.setLogger(quiet);
  AWSXRay.enableManualMode();
  AWSXRay.setDaemonAddress(`127.0.0.1:${daemonPort}`);
  const sampling: SamplingInternals = {
    defaultSampler: lib('middleware/sampling/default_sampler') as SamplingInternals['defaultSampler'],
    ruleCache: lib('middleware/sampling/rule_cache') as SamplingInternals['ruleCache'],
    connector: lib('middleware/sampling/service_connector') as SamplingInternals['connector'],
    rulePoller: lib('middleware/sampling/rule_poller') as SamplingInternals['rulePoller'],
    targetPoller: lib('middleware/sampling/target_poller') as SamplingInternals['targetPoller'],
  };
  return {
    AWSXRay,
    sampling,
    unload() {
      clearInterval(sampling.rulePoller.poller);
      clearInterval(sampling.targetPoller.poller);
      AWSXRay.setStreamingThreshold(100);
      AWSXRay.setDaemonAddress('127.0.0.1:2000');
      purge();
    },
  };
}
