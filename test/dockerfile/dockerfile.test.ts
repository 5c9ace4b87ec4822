// The Dockerfile, parsed with dockerfile-ast, follows the rules of issue 11 (multi-stage, Node 24
// everywhere, production dependencies only, numeric non-root user, OCI labels, no secrets, no
// URL downloads, arch-independent), and agrees with package.json and the code it packages: every
// module the binaries load at run time is in the image.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { DockerfileParser, type From, type Instruction } from 'dockerfile-ast';
import { parse as parseYaml } from 'yaml';
import { BUNDLE_DIR } from '../../sidecar/runtime/bundle.ts';
import { ROOT } from '../support/process.ts';

const dockerfileText = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(dockerfileText);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  type: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

const froms = dockerfile.getFROMs();
const instructions = dockerfile.getInstructions();
const finalFrom = froms[froms.length - 1]!;
/** Instructions of the last stage (after its FROM). */
const finalStage = instructions.filter((i) => i.getRange().start.line > finalFrom.getRange().start.line);
const keyword = (k: string, list: Instruction[] = instructions) => list.filter((i) => i.getKeyword() === k);
const args = (i: Instruction) => i.getArgumentsContent() ?? '';
const runs = keyword('RUN').map(args);

describe('Dockerfile', () => {
  it('is multi-stage, every stage named and built FROM a Node 24 image pinned by tag', () => {
    assert.ok(froms.length >= 2, 'multi-stage');
    for (const f of froms) {
      assert.ok(f.getBuildStage(), `${f.getImage() ?? ''}: named stage`);
      assert.ok(isNode24(f), `${f.getImage() ?? ''}: Node 24 base`);
      assert.notEqual(f.getImageTag(), 'latest');
    }
  });

  it('the Node 24 check rejects other bases', () => {
    const other = DockerfileParser.parse('FROM node:22-bookworm-slim AS a\nFROM node AS b\nFROM gcr.io/distroless/nodejs24-debian12 AS c\n').getFROMs();
    assert.deepEqual(other.map(isNode24), [false, false, true]);
  });

  it('is platform-agnostic: only the pure-JavaScript dependency stage runs on $BUILDPLATFORM, no arch-specific steps', () => {
    for (const f of froms) {
      const platform = f.getPlatformFlag()?.getValue();
      if (platform !== undefined) {
        assert.equal(platform, '$BUILDPLATFORM');
        assert.notEqual(f, finalFrom, 'the runtime stage is the target platform');
      }
    }
    for (const r of runs) {
      assert.doesNotMatch(r, /amd64|arm64|x86_64|aarch64|uname -m|--print-architecture|apt-get install|apk add/, r);
    }
  });

  it('installs with npm ci from the lockfile, production dependencies only; never npm install', () => {
    assert.ok(runs.some((r) => /\bnpm ci\b/.test(r) && /--omit=dev\b/.test(r)), 'npm ci --omit=dev');
    for (const r of runs) assert.doesNotMatch(r, /\bnpm (install|i|add)\b/, r);
    const copies = keyword('COPY').map(args);
    assert.ok(copies.some((c) => /package-lock\.json/.test(c)), 'the lockfile is in the build');
  });

  it('runs the final stage as a numeric non-root user, NODE_ENV=production, no writable copies', () => {
    const users = keyword('USER', finalStage).map(args);
    assert.equal(users.length, 1);
    const m = /^(\d+)(?::(\d+))?$/.exec(users[0]!);
    assert.ok(m !== null, `numeric USER, got ${users[0]!}`);
    assert.notEqual(Number(m[1]), 0);
    if (m[2] !== undefined) assert.notEqual(Number(m[2]), 0);
    assert.ok(keyword('ENV', finalStage).map(args).some((e) => /^NODE_ENV=production$/.test(e)));
    for (const c of keyword('COPY', finalStage)) assert.doesNotMatch(args(c), /--chown|--chmod/, 'files stay root-owned and read-only to the runtime user');
    assert.equal(keyword('VOLUME').length, 0, 'nothing written at run time');
  });

  it('carries the OCI labels', () => {
    const labels = keyword('LABEL').map(args).join(' ');
    for (const l of ['title', 'description', 'version', 'revision', 'licenses', 'source']) {
      assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${l}=`), l);
    }
    assert.match(dockerfileText, new RegExp(`ARG VERSION=${pkg.version.replace(/\./g, '\\.')}\\b`), 'VERSION defaults to package.json version');
  });

  it('holds no secrets and downloads nothing by URL', () => {
    for (const i of [...keyword('ARG'), ...keyword('ENV')]) assert.doesNotMatch(args(i), /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|ACCESS_KEY)/i, args(i));
    for (const a of keyword('ADD')) assert.doesNotMatch(args(a), /(https?|git):\/\//, 'ADD of a URL');
    for (const r of runs) assert.doesNotMatch(r, /\b(curl|wget)\b/, r);
    for (const c of keyword('COPY')) assert.doesNotMatch(args(c), /\.npmrc|\.env\b|\.pem|\.key\b/, args(c));
  });

  it('exposes the sidecar ports and the webhook port the manifests use', () => {
    const exposed = keyword('EXPOSE').flatMap((e) => args(e).split(/\s+/));
    const sidecar = parseYaml(
      (parseYaml(readFileSync(join(ROOT, 'mesh-configs/kubernetes/sidecar-configmap.yaml'), 'utf8')) as { data: Record<string, string> }).data['config.yaml']!,
    ) as { receivers: Record<string, Record<string, unknown>>; extensions: { health_check: { endpoint: string } } };
    const portOf = (ep: unknown) => String(ep).split(':').pop()!;
    const expected = [
      `${portOf((sidecar.receivers.otlp!.protocols as Record<string, { endpoint: string }>).grpc!.endpoint)}/tcp`,
      `${portOf((sidecar.receivers.otlp!.protocols as Record<string, { endpoint: string }>).http!.endpoint)}/tcp`,
      `${portOf(sidecar.receivers.zipkin!.endpoint)}/tcp`,
      `${portOf(sidecar.receivers.awsxray!.endpoint)}/udp`,
      `${portOf(sidecar.extensions.health_check.endpoint)}/tcp`,
      '8888/tcp',
      '8443/tcp',
    ];
    for (const p of expected) assert.ok(exposed.includes(p), `${p} (exposed: ${exposed.join(' ')})`);
  });

  // The injector runs what `tsc -p tsconfig.build.json` makes of its bin: dist/<bin with .js>; the
  // sidecar runs its bundle (sidecar/runtime/bundle.ts): <BUNDLE_DIR>/main.js.
  const compiled = (bin: string) => `dist/${bin.replace(/\.ts$/, '.js')}`;
  const bundled = (bin: string) => `${BUNDLE_DIR}/${bin.replace(/^sidecar\//, '').replace(/\.ts$/, '.js')}`;

  it('compiles the sources in a build stage with the build tsconfig, and copies only dist/ to the runtime', () => {
    const build = keyword('RUN').map(args).find((r) => /tsc\b.*-p tsconfig\.build\.json/.test(r));
    assert.ok(build !== undefined, 'a RUN compiles with tsconfig.build.json');
    const buildCfg = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { outDir: string } };
    assert.equal(buildCfg.compilerOptions.outDir, 'dist');
    const runs = keyword('RUN').map(args);
    const bundle = runs.findIndex((r) => /\bnode sidecar\/runtime\/bundle\.ts\b/.test(r));
    assert.ok(bundle >= 0, 'a RUN bundles the sidecar (node sidecar/runtime/bundle.ts)');
    assert.ok(BUNDLE_DIR.startsWith('dist/'), `the bundle (${BUNDLE_DIR}) is copied with dist/`);
    const copied = keyword('COPY', finalStage).map(args);
    assert.ok(copied.includes('/app/dist ./dist'), `COPY --from=<build> /app/dist ./dist in ${copied.join(' | ')}`);
    for (const top of ['sidecar', 'injector']) assert.ok(!copied.some((c) => c === `${top} ./${top}`), `no TypeScript sources (${top}) in the runtime stage`);
  });

  it('runs the sidecar by default and ships both binaries where the injector Deployment expects them', () => {
    const workdir = keyword('WORKDIR', finalStage).map(args).pop();
    assert.equal(workdir, '/app');
    const entrypoint = JSON.parse(args(keyword('ENTRYPOINT', finalStage)[0]!)) as string[];
    assert.deepEqual([entrypoint[0], entrypoint.at(-1)], ['node', `${workdir}/${bundled(pkg.bin['tracebridge-sidecar']!)}`], 'exec form, the bundled sidecar bin');
    assert.match(pkg.scripts.start!, new RegExp(`node ${pkg.bin['tracebridge-sidecar']!.replace(/\./g, '\\.')}$`));
    const copied = keyword('COPY', finalStage).map(args);
    assert.ok(copied.some((c) => c === 'package.json ./'), 'package.json: "type": "module" and the version the binaries print');
    assert.equal(pkg.type, 'module');
    const deployment = readFileSync(join(ROOT, 'mesh-configs/kubernetes/deployment.yaml'), 'utf8');
    assert.ok(deployment.includes(`command: [node, ${workdir}/${compiled(pkg.bin['tracebridge-injector']!)}]`), 'the injector command override');
  });

  const entrypointFlags = (): string[] => (JSON.parse(args(keyword('ENTRYPOINT', finalStage)[0]!)) as string[]).slice(1, -1);

  it('the entrypoint passes node only flags this Node accepts, the V8 young generation capped', () => {
    const flags = entrypointFlags();
    assert.ok(flags.includes('--max-semi-space-size=1'), `--max-semi-space-size=1 in ${flags.join(' ')}`);
    for (const f of flags) assert.match(f, /^--[a-z0-9-]+(=[\w.]+)?$/, `${f}: a node flag`);
    // An unknown or misspelt flag makes node exit 9 ("bad option") before running anything.
    const res = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stderr, '');
    const bad = spawnSync(process.execPath, ['--max-semi-space-sise=1', '-e', '0'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0, 'the check sees a bad flag');
  });

  // Start-up: no realpath per loaded file, and node's IPv6 expression (tested on every listen with
  // a host) compiled once to machine code instead of built for V8's interpreter first.
  it('the entrypoint starts node without a realpath per module and with regular expressions compiled straight to machine code', () => {
    const flags = entrypointFlags();
    for (const f of ['--preserve-symlinks', '--preserve-symlinks-main', '--no-regexp-tier-up']) assert.ok(flags.includes(f), `${f} in ${flags.join(' ')}`);
    // Safe only while nothing the sidecar loads is reached through a symlink: npm ci and COPY make none but node_modules/.bin.
    const links = readdirSync(join(ROOT, 'node_modules'), { recursive: true, withFileTypes: true }).filter((d) => d.isSymbolicLink() && !d.parentPath.includes('/.bin'));
    assert.deepEqual(links.map((d) => join(d.parentPath, d.name)), [], 'symlinks in node_modules other than .bin');
  });

  // Node's binary carries a code cache for its own built-in modules, and V8 accepts it only when
  // the hash of its flags matches the build's. On Node 24 (whose V8 leaves memory-tuning flags such
  // as the heap size limits out of that hash; Node 20's did not) most other V8 flags still count,
  // and one of them is enough for node to compile every built-in module it loads after start-up
  // from source (~10-14 ms of each start here). The ENTRYPOINT pays that for the two flags the
  // Dockerfile weighs. Any third flag that changes the hash would make dropping those two gain
  // nothing, so it must be weighed too: this check names exactly these two. The --max-old-space-size
  // that main.js's re-execution or the injector's NODE_OPTIONS adds must keep the cache.
  it('the entrypoint flags that cost node the code cache of its own modules are the two the Dockerfile weighs', () => {
    const weighed = ['--initial-old-space-size=32', '--no-regexp-tier-up'];
    const flags = entrypointFlags();
    for (const f of weighed) assert.ok(flags.includes(f), `${f} in ${flags.join(' ')}`);
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    const rejected = (argv: string[]) => {
      const res = spawnSync(process.execPath, [...argv, '-e', "process.getBuiltinModule('node:http')"], { encoding: 'utf8', env: { ...env, NODE_DEBUG_NATIVE: 'CODE_CACHE' } });
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stderr, /is accepted|is rejected/, 'node reports its code cache');
      return (res.stderr.match(/is rejected/g) ?? []).length;
    };
    assert.equal(rejected([]), 0, 'node without flags keeps its code cache here');
    const kept = [...flags.filter((f) => !weighed.includes(f)), '--max-old-space-size=160'];
    assert.equal(rejected(kept), 0, `${kept.join(' ')} keep node's code cache`);
    for (const f of weighed) assert.ok(rejected([f]) > 0, `${f} alone makes node compile its modules from source`);
  });

  it('fills the compile cache at build time as the runtime user, with the entrypoint flags, read-only to that user afterwards', () => {
    const env = keyword('ENV', finalStage).map(args).map((e) => /^NODE_COMPILE_CACHE=(\S+)$/.exec(e)?.[1]).find((d) => d !== undefined);
    assert.ok(env !== undefined, 'ENV NODE_COMPILE_CACHE=<dir> in the runtime stage (read at run time)');
    assert.ok(env.startsWith('/app/'), env);
    const user = keyword('USER', finalStage).map(args)[0]!;
    const [uid, gid] = user.split(':');
    const warm = keyword('RUN', finalStage).find((r) => /warm-compile-cache\.js/.test(args(r)));
    assert.ok(warm !== undefined, `a RUN of ${BUNDLE_DIR}/runtime/warm-compile-cache.js`);
    const text = args(warm).replace(/\\\n/g, ' ');
    assert.ok(warm.getRange().start.line < keyword('USER', finalStage)[0]!.getRange().start.line, 'before USER (it chowns)');
    // Node keeps the cache in a subdirectory per UID: it must be made by the UID that reads it.
    assert.match(text, new RegExp(`setpriv --reuid=${uid} --regid=${gid ?? uid}\\b`), `made as ${user}`);
    // The bundle's own warm-up, which starts the bundle's main.js: the cache holds what the entrypoint loads.
    assert.match(text, new RegExp(`node ${entrypointFlags().join(' ')} /app/${BUNDLE_DIR}/runtime/warm-compile-cache\\.js`), 'same V8 flags as the entrypoint, the bundle\'s warm-up');
    assert.match(text, /chown -R root:root "\$NODE_COMPILE_CACHE" && chmod -R a-w,a\+rX "\$NODE_COMPILE_CACHE"\s*$/, 'handed back to root, read-only');
    assert.ok(existsSync(join(ROOT, 'sidecar/runtime/warm-compile-cache.ts')), 'the warm-up is bundled');
  });

  it('the .dockerignore keeps node_modules, tests, bench results and .git out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const p of ['node_modules', 'test', '.git']) assert.ok(ignored.includes(p), p);
    assert.ok(ignored.includes('bench/results') || ignored.includes('bench'), 'bench results');
  });
});

describe('Dockerfile: the packaged code runs on production dependencies alone', () => {
  // Build scripts that tsconfig.build.json leaves out of dist/ (the bundler) are not packaged.
  const excluded = new Set((JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { exclude?: string[] }).exclude?.map((f) => join(ROOT, f)) ?? []);
  const sources = Object.values(pkg.bin)
    .map((bin) => join(ROOT, bin.split('/')[0]!))
    .filter((dir) => existsSync(dir))
    .flatMap(tsFiles)
    .filter((f) => !excluded.has(f));

  it('every package a binary imports at run time is a production dependency (npm ci --omit=dev installs it)', () => {
    const missing: string[] = [];
    for (const file of sources) {
      for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (pkg.dependencies[name] === undefined) missing.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('every relative import stays inside the directories the image copies', () => {
    const outside: string[] = [];
    for (const file of sources) {
      for (const spec of runtimeImports(readFileSync(file, 'utf8')).filter((s) => s.startsWith('.'))) {
        const target = relative(ROOT, normalize(join(dirname(file), spec)));
        if (!/^(sidecar|injector)\//.test(target) && target !== 'package.json') outside.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
    assert.deepEqual(outside, []);
  });

  it('the import scan sees static, dynamic and re-exports, and skips type-only imports', () => {
    const code = "import { a } from 'x';\nimport type { T } from 'types-only';\nexport { b } from './y.ts';\nconst m = await import('z');\nexport type { U } from 'also-types';\n";
    assert.deepEqual(runtimeImports(code), ['x', './y.ts', 'z']);
  });

  it('no production dependency needs an install script or a native build (one lockfile serves every platform)', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; hasInstallScript?: boolean; os?: string[]; cpu?: string[] }> };
    // The nested protobufjs 7 postinstall only checks its optional CLI's dependency versions.
    const allowed = new Set(['node_modules/@grpc/proto-loader/node_modules/protobufjs']);
    for (const [path, p] of Object.entries(lock.packages)) {
      if (path === '' || p.dev === true) continue;
      if (p.hasInstallScript === true) assert.ok(allowed.has(path), `${path} has an install script`);
      assert.equal(p.cpu, undefined, `${path} is CPU-specific`);
    }
  });
});

function isNode24(f: From): boolean {
  const name = f.getImageName() ?? '';
  const tag = f.getImageTag() ?? '';
  return (/(^|\/)node$/.test(name) && /^24(?:$|[.-])/.test(tag)) || /(^|\/)nodejs24(-|$)/.test(name);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Module specifiers loaded at run time: static imports, re-exports and import() (type-only erased). */
function runtimeImports(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?\sfrom\s+['"]([^'"]+)['"]/gm)) {
    if (m[2] === undefined) out.push(m[3]!);
  }
  for (const m of code.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}
