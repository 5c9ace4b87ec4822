// A tiny DNS server on UDP 127.0.0.1 for resolver tests: answers A queries for any name from a
// mutable list of IPv4 addresses (TTL 0), every other query type with no records, and SERVFAIL
// while `failing` is set. Counts the A queries it answered.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

const TYPE_A = 1;
const CLASS_IN = 1;

export class DnsStub {
  /** The A records served, e.g. ['127.0.0.2', '127.0.0.3']. */
  addresses: string[] = [];
  /** Answer SERVFAIL to everything (a DNS outage). */
  failing = false;
  queriesA = 0;
  port = 0;
  private readonly socket: Socket = createSocket('udp4');

  async start(): Promise<this> {
    this.socket.on('message', (msg, from) => this.answer(msg, from));
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    this.port = (this.socket.address()).port;
    return this;
  }

  /** ip:port, as dns.setServers takes it. */
  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }

  private answer(query: Buffer, from: RemoteInfo): void {
    if (query.length < 12) return;
    // The question: labels up to the zero byte, then QTYPE and QCLASS.
    let pos = 12;
    while (pos < query.length && query[pos] !== 0) pos += query[pos]! + 1;
    const questionEnd = pos + 5;
    if (questionEnd > query.length) return;
    const qtype = query.readUInt16BE(pos + 1);
    const isA = qtype === TYPE_A && !this.failing;
    if (isA) this.queriesA++;
    const records = isA ? this.addresses : [];
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // ID
    const rd = query[2]! & 0x01;
    header[2] = 0x80 | rd; // QR, opcode 0, RD copied
    header[3] = 0x80 | (this.failing ? 2 : 0); // RA; RCODE 0 or 2 (SERVFAIL)
    header.writeUInt16BE(1, 4); // QDCOUNT
    header.writeUInt16BE(records.length, 6); // ANCOUNT
    const answers = records.map((ip) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question's name
      rr.writeUInt16BE(TYPE_A, 2);
      rr.writeUInt16BE(CLASS_IN, 4);
      rr.writeUInt32BE(0, 6); // TTL
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((b, i) => (rr[12 + i] = Number(b)));
      return rr;
    });
    this.socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...answers]), from.port, from.address);
  }
}
