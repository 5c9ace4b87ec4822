// Loopback checks, used twice: at config validation (the forward proxy may only listen on
// loopback, reverse targets may only be loopback) and per connection (defence in depth: a
// forward-proxy client that is not loopback is refused even if the listener somehow is not).
// Literal addresses only: a name such as `localhost` may resolve to ::1 or to anything /etc/hosts
// says, so it is never trusted as a listen or target address (DESIGN: 127.0.0.1, never localhost).
import { isIP } from 'node:net';

/** True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8 (`::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined || address === '') return false;
  const a = address.toLowerCase();
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(a) === 6 && expandsToLoopbackV6(a);
}

function expandsToLoopbackV6(a: string): boolean {
  // ::1 can be written with leading zeros (0:0:0:0:0:0:0:1, ::0001). Normalise by parsing the
  // groups rather than comparing text.
  const [head = '', tail] = a.split('::', 2) as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  if (tail === undefined && h.length !== 8) return false;
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.length === 8 && groups.every((g, i) => /^[0-9a-f]{1,4}$/.test(g) && Number.parseInt(g, 16) === (i === 7 ? 1 : 0));
}

/** Unspecified addresses: a listener there is reachable on every interface, loopback included. */
export function isUnspecifiedAddress(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}
