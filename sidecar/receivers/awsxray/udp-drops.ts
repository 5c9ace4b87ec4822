// The kernel's per-socket drop counter: datagrams that arrived while the socket's receive buffer
// was full. Linux lists every UDP socket of the network namespace in /proc/net/udp (IPv4) and
// /proc/net/udp6 (IPv6), one row per socket, the last column `drops`. The row is found by the
// socket's local address:port, written as the kernel prints it: hex, the address in host byte
// order per 32-bit word (little-endian on x86 and arm64), the port in big hex. Pure: text in,
// number out; reading the file is the caller's business.
import { isIPv4, isIPv6 } from 'node:net';

const hex32 = (bytes: number[]): string =>
  bytes
    .map((b) => b.toString(16).padStart(2, '0'))
    .reverse()
    .join('')
    .toUpperCase();

/** Expands an IPv6 text address into its 16 bytes. */
function ipv6Bytes(addr: string): number[] {
  const zone = addr.indexOf('%');
  let a = zone >= 0 ? addr.slice(0, zone) : addr;
  let tail: number[] = [];
  const lastColon = a.lastIndexOf(':');
  if (isIPv4(a.slice(lastColon + 1))) {
    tail = a.slice(lastColon + 1).split('.').map(Number);
    a = `${a.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head === '' ? [] : head.split(':');
  const r = rest === undefined || rest === '' ? [] : rest.split(':');
  const words = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  const bytes = words.flatMap((w) => {
    const n = parseInt(w, 16);
    return [n >> 8, n & 0xff];
  });
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** `local_address` as /proc/net/udp{,6} prints it for a socket bound to `address`:`port`. */
export function procAddress(address: string, port: number): string {
  const p = port.toString(16).padStart(4, '0').toUpperCase();
  if (isIPv4(address)) return `${hex32(address.split('.').map(Number))}:${p}`;
  if (!isIPv6(address)) throw new Error(`not an IP address: ${address}`);
  const b = ipv6Bytes(address);
  return `${[0, 4, 8, 12].map((i) => hex32(b.slice(i, i + 4))).join('')}:${p}`;
}

/** The `drops` column of the row whose local address is `local` (from procAddress); undefined if absent. */
export function socketDrops(table: string, local: string): number | undefined {
  for (const line of table.split('\n')) {
    const cols = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (cols.length < 13 || cols[1] !== local) continue;
    const drops = Number(cols[cols.length - 1]);
    return Number.isSafeInteger(drops) && drops >= 0 ? drops : undefined;
  }
  return undefined;
}
