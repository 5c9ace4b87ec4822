/** A source of backend endpoints ("host:port"). */
export interface Resolver {
  /** Starts resolving; calls onChange with the full sorted, de-duplicated endpoint list whenever it changes (and once with the first result). */
  start(onChange: (endpoints: readonly string[]) => void): Promise<void>;
  shutdown(): Promise<void>;
}
