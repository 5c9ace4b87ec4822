// `npx node bench/xray-burst.ts [--quick]`: what an X-Ray SDK streams for one long segment — the
// segment, then N subsegments, one datagram each, each send completed before the next (the SDKs'
// pace) — against the compiled sidecar (dist/, the form the image runs) with its `awsxray` receiver
// and an OTLP/HTTP exporter to a counting sink in this process. Prints, per burst size, the spans
// delivered, the datagrams the sidecar counted as dropped, and the time from the first send to the
// last span at the sink.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { countSpans } from '../sidecar/pdata/wire.ts';
import { freePorts } from './ports.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const SIZES = quick ? [300, 3000] : [300, 3000, 10000];
const ROUNDS = quick ? 1 : 3;
const HEADER = '{"format":"json","version":1}\n';

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}


/** Sends the segment and `n` subsegments of one trace, each send completed before the next. */
async function burst(port: number, n: number): Promise<void> {
  const socket = createSocket('udp4');
  const traceId = `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const segId = randomBytes(8).toString('hex');
  const t = Date.now() / 1000;
  for (let i = 0; i <= n; i++) {
    const doc =
      i === 0
        ? { name: 'burst-svc', id: segId, trace_id: traceId, start_time: t, end_time: t + 1 }
        : { type: 'subsegment', name: `query-${i}`, id: randomBytes(8).toString('hex'), trace_id: traceId, parent_id: segId, start_time: t, end_time: t + 0.5, namespace: 'remote' };
    await new Promise<void>((resolve, reject) => socket.send(Buffer.from(HEADER + JSON.stringify(doc)), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }
  socket.close();
}

async function main(): Promise<void> {
  out('building dist/ (tsc -p tsconfig.build.json), the form the image runs');
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });

  let delivered = 0;
  let last = 0;
  const sink = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      delivered += countSpans(req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
      last = Date.now();
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkPort = (sink.address() as AddressInfo).port;
  const [xray, metrics] = (await freePorts(2)) as [number, number];
  const cfg = join(mkdtempSync(join(tmpdir(), 'tb-xray-burst-')), 'config.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      receivers: { awsxray: { endpoint: `127.0.0.1:${xray}`, proxy_server: { endpoint: `127.0.0.1:${xray}`, local_mode: true } } },
      processors: { batch: { timeout: '200ms' } },
      exporters: { otlphttp: { endpoint: `http://127.0.0.1:${sinkPort}` } },
      service: { pipelines: { traces: { receivers: ['awsxray'], processors: ['batch'], exporters: ['otlphttp'] } }, telemetry: { logs: { level: 'warn' }, metrics: { address: `127.0.0.1:${metrics}` } } },
    }),
  );
  const child = spawn(process.execPath, [join(ROOT, 'dist/sidecar/main.js'), '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`http://127.0.0.1:${metrics}/metrics`).then((r) => r.ok, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const dropped = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      return [...text.matchAll(/^tracebridge_receiver_awsxray_dropped_datagrams_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    out('| subsegments per burst | delivered spans | dropped datagrams (sidecar metric) | first send → last span at the sink |');
    out('| ---: | ---: | ---: | ---: |');
    for (const n of SIZES) {
      for (let r = 0; r < ROUNDS; r++) {
        const before = delivered;
        const droppedBefore = await dropped();
        const start = Date.now();
        await burst(xray, n);
        // Settled: nothing new at the sink for a second (the batch timeout is 200 ms).
        for (let seen = -1; seen !== delivered; ) {
          seen = delivered;
          await new Promise((res) => setTimeout(res, 1000));
        }
        out(`| ${n} | ${delivered - before} of ${n + 1} | ${(await dropped()) - droppedBefore} | ${last - start} ms |`);
      }
    }
  } finally {
    child.kill('SIGTERM');
    sink.close();
  }
}

await main();
