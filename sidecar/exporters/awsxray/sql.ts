// The `sql` object, after the collector's makeSQL (translator/sql.go): only for SQL database
// systems; `url` is the span name (the collector's choice: a connection string there is not
// useful), `connection_string` is `<db.connection_string or localhost>/<db.name>`.
// Also read: the current semconv names `db.system.name`, `db.namespace` and `db.query.text`.
import type { SpanAttributes } from './attributes.ts';
import type { SqlData } from '../../aws/xray-segment.ts';

const SQL_SYSTEMS = new Set(['db2', 'derby', 'hive', 'mariadb', 'mssql', 'mysql', 'oracle', 'postgresql', 'sqlite', 'teradata', 'other_sql']);

const SQL_KEYS = ['db.connection_string', 'db.system', 'db.system.name', 'db.name', 'db.namespace', 'db.statement', 'db.query.text', 'db.user'];

export function makeSql(spanName: string, attrs: SpanAttributes): SqlData | undefined {
  const system = attrs.text('db.system') ?? attrs.text('db.system.name');
  if (system === undefined || !SQL_SYSTEMS.has(system)) return undefined;
  for (const k of SQL_KEYS) if (attrs.has(k)) attrs.consumed.add(k);
  const instance = attrs.text('db.name') ?? attrs.text('db.namespace') ?? '';
  const connection = attrs.text('db.connection_string') || 'localhost';
  const sql: SqlData = { url: spanName, connection_string: `${connection}/${instance}`, database_type: system };
  const user = attrs.text('db.user');
  if (user !== undefined && user !== '') sql.user = user;
  const query = attrs.text('db.statement') ?? attrs.text('db.query.text');
  if (query !== undefined && query !== '') sql.sanitized_query = query;
  if (sql.url === '') delete sql.url;
  return sql;
}
