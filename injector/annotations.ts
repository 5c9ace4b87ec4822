// Label and annotation names the injector reads or writes, in one place so that the decision,
// the mutation and the docs agree on spelling.

export const INJECT = 'tracebridge.io/inject';
export const STATUS = 'tracebridge.io/status';
export const INJECTED_LABEL = 'tracebridge.io/injected';
// `"true"` on the pod: the sidecar runs the header bridge and app containers get HTTP_PROXY.
export const HEADER_BRIDGE = 'tracebridge.io/header-bridge';

// OpenTelemetry Operator auto-instrumentation (`instrumentation.opentelemetry.io/inject-java`, ...).
export const OTEL_OPERATOR_INJECT_PREFIX = 'instrumentation.opentelemetry.io/inject-';

// Istio
export const ISTIO_INJECT = 'sidecar.istio.io/inject';
export const ISTIO_REV = 'istio.io/rev';
export const ISTIO_NAMESPACE_INJECTION = 'istio-injection';
export const ISTIO_PROXY_CONFIG = 'proxy.istio.io/config';
export const ISTIO_EXCLUDE_INBOUND_PORTS = 'traffic.sidecar.istio.io/excludeInboundPorts';
export const ISTIO_PROXY_CONTAINER = 'istio-proxy';

// Linkerd
export const LINKERD_INJECT = 'linkerd.io/inject';
export const LINKERD_PROXY_ENV = 'config.linkerd.io/proxy-additional-env';
export const LINKERD_SKIP_INBOUND_PORTS = 'config.linkerd.io/skip-inbound-ports';
export const LINKERD_PROXY_CONTAINER = 'linkerd-proxy';
