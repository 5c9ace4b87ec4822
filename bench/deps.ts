// Idle cost of each dependency: what importing it adds to a bare Node process, in the form the
// image runs (compiled dist/, no TypeScript stripper). Prints a markdown table.
//
//   npm run build && node bench/deps.ts [--runs=5]
//
// Each row is a fresh `node --expose-gc` process that imports the modules, collects garbage twice
// (what stays is what the module costs for the life of the process), waits, then reads its own
// /proc/self/status (VmRSS, RssAnon = private, RssFile = shared file-backed pages) and
// process.memoryUsage().heapUsed. Figures are medians of --runs processes, as deltas from a bare
// process measured the same way. Rows are not additive: modules share node: built-ins
// (node:http2, node:tls ...) that the first one to import them pays for.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist/sidecar');
const runsArg = process.argv.find((a) => a.startsWith('--runs='));
const RUNS = runsArg ? Math.max(1, Number(runsArg.slice('--runs='.length)) || 5) : 5;

const dist = (p: string): string => pathToFileURL(join(DIST, p)).href;

interface Row {
  name: string;
  /** ES module specifiers to import (packages resolve from the repository's node_modules). */
  imports: string[];
  /** Load them with require() instead, as the sidecar loads them (sidecar/config/load.ts: yaml). */
  require?: boolean;
  /** Extra statements run after the imports (e.g. building a logger), with `m` = the modules. */
  then?: string;
  note: string;
}

const ROWS: Row[] = [
  { name: 'bare Node', imports: [], note: 'the baseline' },
  { name: 'sidecar: telemetry/logger.js', imports: [dist('telemetry/logger.js')], then: "m[0].createLogger('info', 1)", note: 'the logger, built as cli.ts builds it (synchronous writes to stderr, no worker thread)' },
  { name: 'yaml', imports: ['yaml'], require: true, note: 'config files only (loaded on first parse); the embedded default needs no parser' },
  // The image's copy: sidecar/runtime/bundle.ts writes the package as one file next to the bundle.
  { name: 'yaml, the bundle\'s one-file copy', imports: [join(ROOT, 'dist/sidecar-image/node_modules/yaml/index.js')], require: true, note: 'what the image loads for a config file (the bundle\'s `yaml` resolves to it)' },
  { name: 'protobufjs (light)', imports: ['protobufjs/light.js'], note: 'the runtime without the .proto parser' },
  // otlp-schema.js loads protobufjs on first use: the row asks for the type, which builds the schema.
  { name: 'protobufjs + OTLP trace schema', imports: [dist('pdata/otlp-schema.js')], then: 'm[0].exportTraceServiceRequestType()', note: 'decoding/encoding OTLP objects (OTLP/JSON, Zipkin, X-Ray receivers); loaded on first use' },
  { name: 'node:http2 + node:tls', imports: ['node:http2', 'node:tls'], note: 'the `otlp` (gRPC) exporter\'s client and the OTLP/gRPC receiver, on first use (grpc-js is no runtime dependency)' },
  { name: '@smithy/signature-v4 + hash-node', imports: ['@smithy/signature-v4', '@smithy/hash-node'], note: 'SigV4 signing (sigv4auth)' },
  { name: '@aws-sdk/credential-provider-node', imports: ['@aws-sdk/credential-provider-node'], note: 'the default credential chain (sigv4auth, awsxray)' },
  { name: '@aws-sdk/credential-providers', imports: ['@aws-sdk/credential-providers'], note: 'role assumption (role_arn)' },
  { name: '@aws-sdk/client-xray', imports: ['@aws-sdk/client-xray'], note: 'the `awsxray` exporter, transport api' },
  { name: 'sidecar: cli.js and its static imports', imports: [dist('cli.js')], note: 'what every start loads before reading the config' },
  {
    name: 'sidecar: every component implementation',
    imports: [
      dist('cli.js'),
      dist('receivers/otlp/receiver.js'),
      dist('receivers/zipkin/receiver.js'),
      dist('receivers/awsxray/receiver.js'),
      dist('exporters/otlphttp/exporter.js'),
      dist('exporters/debug/exporter.js'),
      dist('processors/batch/processor.js'),
      dist('extensions/health_check/extension.js'),
    ],
    note: 'the embedded default\'s receivers, exporters and health check, not started',
  },
];

interface Sample {
  rss: number;
  anon: number;
  file: number;
  heap: number;
}

// Runs in the child: imports, two GCs, a pause, then one JSON line on stdout.
function childSource(row: Row): string {
  return `
const m = [];
const require = (await import('node:module')).createRequire(${JSON.stringify(join(ROOT, 'package.json'))});
for (const s of ${JSON.stringify(row.imports)}) m.push(${row.require === true ? 'require(s)' : 'await import(s)'});
${row.then ?? ''};
globalThis.gc(); globalThis.gc();
await new Promise((r) => setTimeout(r, 300));
globalThis.gc();
const st = (await import('node:fs')).readFileSync('/proc/self/status', 'utf8');
const kib = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+)').exec(st)[1]);
process.stdout.write(JSON.stringify({ rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile'), heap: process.memoryUsage().heapUsed / 1024 }) + '\\n');
process.exit(0);
`;
}

function sample(row: Row): Sample {
  // cwd = the repository, so bare package specifiers resolve from its node_modules.
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', childSource(row)], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${row.name}: child exited ${r.status}: ${r.stderr.trim()}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Sample;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);
const delta = (kib: number): string => `${kib >= 0 ? '+' : ''}${(kib / 1024).toFixed(1)}`;

function main(): void {
  if (!existsSync(join(DIST, 'cli.js'))) {
    process.stderr.write('dist/ is missing: run `npm run build` first (the table measures the compiled form the image runs)\n');
    process.exitCode = 1;
    return;
  }
  const results = new Map<string, Sample>();
  // Interleaved rounds, so a neighbour's burst on a shared machine spreads over every row.
  const perRow = new Map<string, Sample[]>(ROWS.map((r) => [r.name, []]));
  for (let i = 0; i < RUNS; i++) for (const row of ROWS) perRow.get(row.name)!.push(sample(row));
  for (const [name, samples] of perRow) {
    results.set(name, {
      rss: median(samples.map((s) => s.rss)),
      anon: median(samples.map((s) => s.anon)),
      file: median(samples.map((s) => s.file)),
      heap: median(samples.map((s) => s.heap)),
    });
  }
  const base = results.get('bare Node')!;
  const lines = [
    `Node ${process.versions.node}, ${RUNS} processes per row (median), after two GCs; deltas from bare Node, MiB.`,
    '',
    '| imported | RSS | private (RssAnon) | file-backed (RssFile) | V8 heap used | used for |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of ROWS) {
    const s = results.get(row.name)!;
    if (row === ROWS[0]) {
      lines.push(`| ${row.name} | ${mib(s.rss)} | ${mib(s.anon)} | ${mib(s.file)} | ${mib(s.heap)} | ${row.note} (absolute figures) |`);
      continue;
    }
    lines.push(`| ${row.name} | ${delta(s.rss - base.rss)} | ${delta(s.anon - base.anon)} | ${delta(s.file - base.file)} | ${delta(s.heap - base.heap)} | ${row.note} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
