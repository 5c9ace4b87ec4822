// The ports the injected sidecar binds (its embedded default), with the names the
// injector gives them. Names carry the `tb-` prefix and fit IANA_SVC_NAME (≤ 15 characters).
import type { SidecarPorts } from './config.ts';

export interface SidecarPort {
  /** Preferred port name; made unique in the pod by the mutation. */
  name: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  /** Reachable from outside the pod (kubelet probes, Prometheus scrapes). */
  external: boolean;
}

/** `headerBridge`: the pod asked for the header bridge, so its forward proxy port is bound too. */
export function sidecarPortList(ports: SidecarPorts, opts: { headerBridge?: boolean } = {}): SidecarPort[] {
  const list: SidecarPort[] = [
    { name: 'tb-otlp-grpc', port: ports.otlp_grpc, protocol: 'TCP', external: false },
    { name: 'tb-otlp-http', port: ports.otlp_http, protocol: 'TCP', external: false },
    { name: 'tb-zipkin', port: ports.zipkin, protocol: 'TCP', external: false },
    { name: 'tb-xray-udp', port: ports.xray, protocol: 'UDP', external: false },
    { name: 'tb-xray-tcp', port: ports.xray, protocol: 'TCP', external: false },
    { name: 'tb-health', port: ports.health, protocol: 'TCP', external: true },
    { name: 'tb-metrics', port: ports.metrics, protocol: 'TCP', external: true },
  ];
  if (opts.headerBridge === true) list.push({ name: 'tb-bridge', port: ports.header_bridge, protocol: 'TCP', external: false });
  return list;
}
