// sigv4auth signing otlphttp exports to a local fake of X-Ray's OTLP endpoint. The test recomputes
// the signature from the request as received (with @smithy/signature-v4 and the same static
// credentials) and checks the payload hash against the bytes on the wire.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { inferFromHost } from '../../../../sidecar/extensions/sigv4auth/extension.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { deliveryRegistry, post, traceRequest, withRealNetwork } from '../../../support/delivery.ts';
import { HttpSink, type Received } from '../../../support/otlp-sinks.ts';
import { startService } from '../../../support/sink.ts';

const CREDS = { accessKeyId: 'AKIDTRACEBRIDGETEST', secretAccessKey: 'c2VjcmV0LXRlc3Qta2V5LW5vdC1yZWFs', sessionToken: 'session-token-for-tests' };
const ENV = { AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey, AWS_SESSION_TOKEN: CREDS.sessionToken };

function config(url: string, compression = 'gzip'): string {
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
extensions:
  sigv4auth: { region: us-west-2, service: xray }
exporters:
  otlphttp/xray:
    traces_endpoint: ${url}/v1/traces
    compression: ${compression}
    auth: { authenticator: sigv4auth }
service:
  extensions: [sigv4auth]
  pipelines:
    traces: { receivers: [otlp], exporters: [otlphttp/xray] }
  telemetry: { metrics: { level: none } }
`;
}

/** `x-amz-date` (20250101T000000Z) as a Date. */
function amzDate(v: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v)!;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

async function expectedAuthorization(got: Received, port: number): Promise<string> {
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(got.headers.authorization!)![1]!.split(';');
  const headers: Record<string, string> = {};
  // x-amz-content-sha256 is left out: the signer recomputes it from the body, so the signature
  // only matches when it covers the exact bytes received.
  for (const h of signedHeaders) if (h !== 'x-amz-content-sha256') headers[h] = got.headers[h]!;
  const signer = new SignatureV4({ service: 'xray', region: 'us-west-2', credentials: CREDS, sha256: Hash.bind(null, 'sha256'), applyChecksum: true });
  const signed = await signer.sign(
    { method: got.method!, protocol: 'http:', hostname: '127.0.0.1', port, path: got.url!, query: {}, headers, body: got.wire! },
    { signingDate: amzDate(got.headers['x-amz-date']!) },
  );
  return signed.headers.authorization!;
}

describe('sigv4auth extension with the otlphttp exporter (fake X-Ray OTLP endpoint)', () => {
  withRealNetwork();
  let sink: HttpSink;
  let svc: Service | undefined;
  const saved: Record<string, string | undefined> = {};

  before(() => {
    for (const [k, v] of Object.entries(ENV)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  beforeEach(async () => {
    sink = await new HttpSink().start();
  });
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
    await sink.stop();
  });

  for (const compression of ['gzip', 'none']) {
    it(`signs each export for region us-west-2 and service xray over the payload as sent (compression ${compression})`, async () => {
      svc = await startService(config(sink.url, compression), {}, deliveryRegistry);
      const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
      const body = traceRequest(3);
      assert.equal((await post(port, '/v1/traces', body)).status, 200);
      await sink.waitForRequests(1);
      const got = sink.received[0]!;
      assert.deepEqual(got.bytes, body);
      assert.equal(got.headers['x-amz-content-sha256'], createHash('sha256').update(got.wire!).digest('hex'));
      assert.equal(got.headers['x-amz-security-token'], CREDS.sessionToken);
      const auth = got.headers.authorization!;
      assert.match(auth, new RegExp(`^AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/\\d{8}/us-west-2/xray/aws4_request, SignedHeaders=`));
      for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256', 'content-type']) assert.ok(auth.includes(h), `${h} is signed`);
      if (compression === 'gzip') assert.ok(/SignedHeaders=[^,]*content-encoding/.test(auth), 'content-encoding is signed');
      assert.equal(auth, await expectedAuthorization(got, sink.port));
      // A signature that does not cover these exact bytes must not match.
      const tampered = { ...got, wire: Buffer.concat([got.wire!, Buffer.from([0])]) };
      assert.notEqual(auth, await expectedAuthorization(tampered, sink.port));
    });
  }

  it('fails start-up when the named authenticator is not a running extension', async () => {
    const yaml = config(sink.url).replace('  extensions: [sigv4auth]\n', '');
    await assert.rejects(startService(yaml, {}, deliveryRegistry).then((s) => (svc = s)), /auth\.authenticator: extension "sigv4auth" is not running/);
  });

  it('reads the service and region from AWS endpoint host names', () => {
    assert.deepEqual(inferFromHost('xray.us-east-1.amazonaws.com'), { service: 'xray', region: 'us-east-1' });
    assert.deepEqual(inferFromHost('XRAY.ap-southeast-2.amazonaws.com'), { service: 'xray', region: 'ap-southeast-2' });
    assert.deepEqual(inferFromHost('xray.cn-north-1.amazonaws.com.cn'), { service: 'xray', region: 'cn-north-1' });
    assert.equal(inferFromHost('gateway.observability.svc'), undefined);
  });
});
