// The sidecar's logger (JSON lines on stderr) under the injector's service name. Pod specs are
// never logged (env may hold secrets): callers pass names, namespaces, uids and decisions only.
import { createLogger as createServiceLogger, type Logger, type LevelWithSilent } from '../sidecar/public.ts';

export type { Logger };

export function createLogger(level: LevelWithSilent = 'info', destination: NodeJS.WritableStream | number = 2): Logger {
  return createServiceLogger(level, destination, 'tracebridge-injector');
}
