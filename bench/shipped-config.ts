// The X-Ray sidecar configs this project ships (mesh-configs/xray/; the injector's ConfigMap,
// mesh-configs/kubernetes/sidecar-configmap.yaml, holds sidecar-xray-otlp.yaml), run as pods run
// them but on free ports: the bench's idle scenarios and test/dockerfile/bundle.test.ts.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const XRAY_CONFIGS = fileURLToPath(new URL('../mesh-configs/xray/', import.meta.url));

export type ShippedXrayConfig = 'sidecar-xray-otlp.yaml' | 'sidecar-xray-segments.yaml';

export interface ShippedConfigPorts {
  otlp_grpc: number;
  otlp_http: number;
  zipkin: number;
  xray: number;
  health: number;
}

/**
 * Writes `name` into `dir` with its listeners moved to `ports` (the health check, which pods
 * open on 0.0.0.0 for the kubelet, to 127.0.0.1 as well), otherwise as shipped; returns the file.
 * Throws when the shipped file no longer listens where this expects, so a changed config is not
 * silently run on its own ports.
 */
export function writeShippedXrayConfig(name: ShippedXrayConfig, ports: ShippedConfigPorts, dir: string): string {
  let text = readFileSync(join(XRAY_CONFIGS, name), 'utf8');
  const moves: [string, number][] = [
    ['127.0.0.1:4317', ports.otlp_grpc],
    ['127.0.0.1:4318', ports.otlp_http],
    ['127.0.0.1:9411', ports.zipkin],
    ['127.0.0.1:2000', ports.xray],
    ['0.0.0.0:13133', ports.health],
  ];
  for (const [from, to] of moves) {
    if (!text.includes(from)) throw new Error(`mesh-configs/xray/${name} no longer listens on ${from}`);
    text = text.replaceAll(from, `127.0.0.1:${to}`);
  }
  const file = join(dir, `${ports.health}-${name}`);
  writeFileSync(file, text);
  // Readable by the image's runtime user when a test runs the sidecar as that user.
  chmodSync(file, 0o644);
  return file;
}

/**
 * What those configs read from a pod's environment (the injector sets AWS_REGION and the X-Ray
 * OTLP endpoint; IRSA gives credentials), with static credentials so that nothing asks the
 * instance metadata service; `metrics` is the sidecar's own metrics port.
 */
export function shippedXrayEnv(metrics: number): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://xray.us-east-1.amazonaws.com/v1/traces',
    TRACEBRIDGE_METRICS_ADDRESS: `127.0.0.1:${metrics}`,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };
}
