// Checks OTLP metrics and logs requests before they are acknowledged and passed through as opaque
// bytes: the request, ResourceMetrics / ResourceLogs and ScopeMetrics / ScopeLogs levels are
// walked (every length inside its message, known fields with their wire types, schema URLs UTF-8),
// and the Resource, the InstrumentationScope and each Metric / LogRecord must be well-framed LEN
// fields. Their contents are not read: nothing here uses them, the OTLP exporters send the bytes
// on unchanged, and each request goes out alone (pass-through does not batch), so a bad one can
// only cost its own sender. Unknown fields are skipped, as everywhere.
import {
  LOGS_REQUEST_FIELDS,
  METRICS_REQUEST_FIELDS,
  RESOURCE_LOGS_FIELDS,
  RESOURCE_METRICS_FIELDS,
  SCOPE_LOGS_FIELDS,
  SCOPE_METRICS_FIELDS,
  TAG_LOGS_REQUEST_RESOURCE_LOGS,
  TAG_METRICS_REQUEST_RESOURCE_METRICS,
  TAG_RESOURCE_LOGS_RESOURCE,
  TAG_RESOURCE_LOGS_SCHEMA_URL,
  TAG_RESOURCE_LOGS_SCOPE_LOGS,
  TAG_RESOURCE_METRICS_RESOURCE,
  TAG_RESOURCE_METRICS_SCHEMA_URL,
  TAG_RESOURCE_METRICS_SCOPE_METRICS,
  TAG_SCOPE_LOGS_LOG_RECORDS,
  TAG_SCOPE_LOGS_SCHEMA_URL,
  TAG_SCOPE_LOGS_SCOPE,
  TAG_SCOPE_METRICS_METRICS,
  TAG_SCOPE_METRICS_SCHEMA_URL,
  TAG_SCOPE_METRICS_SCOPE,
  type MessageFields,
} from './fields.ts';
import { WireChecker } from './validate.ts';
import { WireFormatError } from './wire.ts';

/** The shape shared by the metrics and logs requests: request -> Resource* -> Scope* -> records. */
interface Layout {
  request: MessageFields;
  resourceLevel: MessageFields;
  scopeLevel: MessageFields;
  /** Tags and path names of each level's child fields. */
  resources: [tag: number, name: string];
  resourceTag: number;
  resourceSchemaUrl: number;
  scopes: [tag: number, name: string];
  scopeTag: number;
  scopeSchemaUrl: number;
  records: [tag: number, name: string];
}

const METRICS: Layout = {
  request: METRICS_REQUEST_FIELDS,
  resourceLevel: RESOURCE_METRICS_FIELDS,
  scopeLevel: SCOPE_METRICS_FIELDS,
  resources: [TAG_METRICS_REQUEST_RESOURCE_METRICS, 'resource_metrics'],
  resourceTag: TAG_RESOURCE_METRICS_RESOURCE,
  resourceSchemaUrl: TAG_RESOURCE_METRICS_SCHEMA_URL,
  scopes: [TAG_RESOURCE_METRICS_SCOPE_METRICS, 'scope_metrics'],
  scopeTag: TAG_SCOPE_METRICS_SCOPE,
  scopeSchemaUrl: TAG_SCOPE_METRICS_SCHEMA_URL,
  records: [TAG_SCOPE_METRICS_METRICS, 'metrics'],
};

const LOGS: Layout = {
  request: LOGS_REQUEST_FIELDS,
  resourceLevel: RESOURCE_LOGS_FIELDS,
  scopeLevel: SCOPE_LOGS_FIELDS,
  resources: [TAG_LOGS_REQUEST_RESOURCE_LOGS, 'resource_logs'],
  resourceTag: TAG_RESOURCE_LOGS_RESOURCE,
  resourceSchemaUrl: TAG_RESOURCE_LOGS_SCHEMA_URL,
  scopes: [TAG_RESOURCE_LOGS_SCOPE_LOGS, 'scope_logs'],
  scopeTag: TAG_SCOPE_LOGS_SCOPE,
  scopeSchemaUrl: TAG_SCOPE_LOGS_SCHEMA_URL,
  records: [TAG_SCOPE_LOGS_LOG_RECORDS, 'log_records'],
};

const checker = new WireChecker();

/** Throws WireFormatError (a PermanentError) naming the path when the bytes are not an ExportMetricsServiceRequest. */
export function validateMetricsRequest(buf: Uint8Array): void {
  walk(buf, METRICS);
}

/** Throws WireFormatError (a PermanentError) naming the path when the bytes are not an ExportLogsServiceRequest. */
export function validateLogsRequest(buf: Uint8Array): void {
  walk(buf, LOGS);
}

function walk(buf: Uint8Array, layout: Layout): void {
  checker.reset(buf);
  try {
    request(layout);
  } catch (err) {
    if (err instanceof WireFormatError) throw checker.located(err);
    throw err;
  } finally {
    checker.release();
  }
}

function request(l: Layout): void {
  const c = checker;
  const r = c.r;
  let i = 0;
  while (r.pos < r.end) {
    const t = r.tag();
    if (t !== l.resources[0]) {
      c.other(t, l.request);
      continue;
    }
    const outer = c.open(l.resources[1], i++);
    let scopes = 0;
    while (r.pos < r.end) {
      const rt = r.tag();
      if (rt === l.scopes[0]) {
        const o = c.open(l.scopes[1], scopes++);
        scopeLevel(l);
        c.close(o);
      } else if (rt === l.resourceTag) {
        const o = c.open('resource', -1);
        r.pos = r.end;
        c.close(o);
      } else if (rt === l.resourceSchemaUrl) {
        c.string('schema_url');
      } else {
        c.other(rt, l.resourceLevel);
      }
    }
    c.close(outer);
  }
}

function scopeLevel(l: Layout): void {
  const c = checker;
  const r = c.r;
  let records = 0;
  while (r.pos < r.end) {
    const t = r.tag();
    if (t === l.records[0]) {
      const o = c.open(l.records[1], records++);
      r.pos = r.end;
      c.close(o);
    } else if (t === l.scopeTag) {
      const o = c.open('scope', -1);
      r.pos = r.end;
      c.close(o);
    } else if (t === l.scopeSchemaUrl) {
      c.string('schema_url');
    } else {
      c.other(t, l.scopeLevel);
    }
  }
}
