// The two wire decoders agree: the same spans as JSON and as proto3 (encoded by an independent
// hand-written encoder) decode to the same Zipkin spans; IPv6 text matches Node's own canonical form.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { formatIPv6 } from '../../../../sidecar/receivers/zipkin/model.ts';
import { decodeZipkinJson } from '../../../../sidecar/receivers/zipkin/zipkin-json.ts';
import { decodeZipkinProto, listOfSpansType } from '../../../../sidecar/receivers/zipkin/zipkin-proto.ts';
import { encodeListOfSpans } from './proto-writer.ts';

const fixture = (name: string) => readFileSync(new URL(`../../testdata/zipkin/${name}`, import.meta.url), 'utf8');

// Plain, comparable view (IDs as hex; proto tags objects have protobufjs' prototype).
const plain = (spans: ReturnType<typeof decodeZipkinJson>) =>
  spans.map((s) => ({ ...s, traceId: Buffer.from(s.traceId).toString('hex'), id: Buffer.from(s.id).toString('hex'), parentId: s.parentId && Buffer.from(s.parentId).toString('hex'), tags: { ...s.tags } }));

describe('zipkin decoders', () => {
  for (const name of ['istio-128bit.json', 'envoy-64bit.json']) {
    it(`decode ${name} the same from JSON and from proto3`, () => {
      const json = fixture(name);
      const fromJson = decodeZipkinJson(json);
      const fromProto = decodeZipkinProto(encodeListOfSpans(JSON.parse(json) as Record<string, unknown>[]));
      // The self-parented span keeps its parent here; the mapping drops it.
      assert.deepEqual(plain(fromProto), plain(fromJson));
    });
  }

  it('reads IPv6 and the remote endpoint from proto3', () => {
    const bytes = listOfSpansType().encode(
      listOfSpansType().fromObject({
        spans: [
          {
            traceId: Buffer.from('48485a3953bb6124', 'hex'),
            id: Buffer.from('a2fb4a1d1a96d312', 'hex'),
            kind: 2,
            remoteEndpoint: { serviceName: 'db', ipv6: Buffer.from('20010db8000000000000000000000002', 'hex'), port: 5432 },
          },
        ],
      }),
    ).finish();
    const [s] = decodeZipkinProto(bytes);
    assert.equal(Buffer.from(s!.traceId).toString('hex'), '000000000000000048485a3953bb6124');
    assert.equal(s!.kind, 'SERVER');
    assert.deepEqual(s!.remoteEndpoint, { serviceName: 'db', ipv4: '', ipv6: '2001:db8::2', port: 5432 });
    assert.equal(s!.timestampUs, 0);
  });

  it('formats IPv6 as Node does (RFC 5952) for any 16 bytes (property)', () => {
    const sparse = fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xdb8), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(sparse, (groups) => {
        const b = Buffer.alloc(16);
        groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
        const text = groups.map((g) => g.toString(16)).join(':');
        const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
        // Node writes IPv4-mapped addresses in hex too, so the two agree on every input.
        assert.equal(formatIPv6(b), canonical);
      }),
      { numRuns: 300 },
    );
  });
});
