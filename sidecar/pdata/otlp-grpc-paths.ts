// The OTLP/gRPC method paths (opentelemetry-proto collector services), shared by the receiver and
// the exporter.
export const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
export const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
