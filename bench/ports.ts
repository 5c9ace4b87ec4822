// Free loopback ports, for the bench's processes and the tests' (test/support/otlp-sinks.ts).
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * `n` distinct free loopback ports: each stays bound until all are chosen. (Asked one at a time,
 * the kernel may hand out a port it has just seen released again, and two of a sidecar's
 * listeners would then collide.)
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
