// pino JSON lines on stderr (stdout belongs to the debug exporter's span lines).
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** `service`: the `service` field of every line (the injector shares this setup). */
export function createLogger(level: LevelWithSilent = 'info', destination: NodeJS.WritableStream | number = 2, service = 'tracebridge-sidecar'): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** Logs a warning once per episode; `reset()` when the condition clears so the next episode warns again. */
export class OnceWarning {
  private warned = false;
  private readonly logger: Logger;
  private readonly message: string;

  constructor(logger: Logger, message: string) {
    this.logger = logger;
    this.message = message;
  }

  warn(fields: Record<string, unknown> = {}): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warn(fields, this.message);
  }

  reset(): void {
    this.warned = false;
  }
}
