// The sidecar process as the injector starts it (no args; env only), with every port moved to a
// free one so tests never collide with each other or with a sidecar running on the machine.
import { freePorts } from './otlp-sinks.ts';

export interface SidecarPorts {
  otlp_grpc: number;
  otlp_http: number;
  zipkin: number;
  xray: number;
  health: number;
  metrics: number;
}

export async function freeSidecarPorts(): Promise<SidecarPorts> {
  const [otlp_grpc, otlp_http, zipkin, xray, health, metrics] = (await freePorts(6)) as [number, number, number, number, number, number];
  return { otlp_grpc, otlp_http, zipkin, xray, health, metrics };
}

/**
 * The injected env on those ports, exporting to `exportUrl`; `configPath` plays the mounted
 * ConfigMap (TRACEBRIDGE_CONFIG). Variables of the test runner's own env that would change the
 * embedded default are cleared.
 */
export function injectedSidecarEnv(ports: SidecarPorts, exportUrl: string, configPath?: string): Record<string, string | undefined> {
  return {
    TRACEBRIDGE_CONFIG: configPath,
    TRACEBRIDGE_PORTS: Object.entries(ports)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    OTEL_EXPORTER_OTLP_ENDPOINT: exportUrl,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
    OTEL_EXPORTER_OTLP_PROTOCOL: undefined,
    TRACEBRIDGE_METRICS_ADDRESS: undefined,
    TRACEBRIDGE_LOG_LEVEL: undefined,
  };
}
