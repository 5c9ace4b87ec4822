// The X-Ray daemon address in the forms of `AWS_XRAY_DAEMON_ADDRESS` (as the X-Ray SDKs read it):
// `host:port` (UDP and TCP on the same address) or `udp:host:port tcp:host:port` (either order,
// space separated). Segments go over UDP; TCP is the SDKs' sampling channel.
import { parseHostPort, type HostPort } from '../config/schema.ts';

export const DEFAULT_DAEMON_ADDRESS = '127.0.0.1:2000';

export interface DaemonAddress {
  udp: HostPort;
  tcp: HostPort;
}

export function parseDaemonAddress(text: string): DaemonAddress | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 1) {
    const hp = parseHostPort(parts[0]!);
    return hp === undefined || hp.port === 0 ? undefined : { udp: hp, tcp: hp };
  }
  if (parts.length !== 2) return undefined;
  let udp: HostPort | undefined;
  let tcp: HostPort | undefined;
  for (const p of parts) {
    const m = /^(udp|tcp):(.+)$/i.exec(p);
    if (m === null) return undefined;
    const hp = parseHostPort(m[2]!);
    if (hp === undefined || hp.port === 0) return undefined;
    if (m[1]!.toLowerCase() === 'udp') {
      if (udp !== undefined) return undefined;
      udp = hp;
    } else {
      if (tcp !== undefined) return undefined;
      tcp = hp;
    }
  }
  return udp === undefined || tcp === undefined ? undefined : { udp, tcp };
}
