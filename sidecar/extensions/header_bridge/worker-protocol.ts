// What the main thread and the proxy worker say to each other: the worker's start data and a
// handful of lifecycle messages. Never one message per request (metrics go through the shared
// counter buffer, see counters.ts).
import type { ProxyOptions } from './proxy.ts';

export interface ListenSpec {
  /** `forward`, or `reverse[i]` as in the config. */
  name: string;
  endpoint: string;
  /** Reverse mode: the app address forwarded to. */
  target?: string;
}

export interface WorkerData {
  options: ProxyOptions;
  listen: ListenSpec[];
  counters: SharedArrayBuffer;
}

export interface ListenerInfo {
  name: string;
  endpoint: string;
  /** Bound address and port; absent when the listener could not start. */
  address?: string;
  port?: number;
  error?: string;
}

export type FromWorker =
  | { type: 'listening'; listeners: ListenerInfo[] }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> }
  | { type: 'closed' };

export type ToWorker = { type: 'shutdown'; graceMs: number };
