// Every sidecar config shipped passes `tracebridge-sidecar validate`, run as a user would, with
// the environment the injector gives the sidecar; and the configs agree with the injector's
// contract (ports, probe port, ConfigMap name and key, env variables).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { decodeInjectorConfig, meshReservedRange, sidecarSettings, type InjectorConfig } from '../../injector/config.ts';
import { CONFIG_PATH, sidecarEnv } from '../../injector/sidecar-container.ts';
import { embeddedDefault } from '../../sidecar/config/embedded-default.ts';
import { components, SECTION } from '../../sidecar/service/components.ts';
import type { Kind } from '../../sidecar/component/component.ts';
import { runProcess } from '../support/process.ts';
import { INJECTOR_CONFIG_FILE, SIDECAR_CONFIGMAP_FILE, at, configMapData, filesUnder, findObject, hostPort, isObj, MESH_CONFIGS, parseYamlFile, tempDir, type Obj } from './support.ts';

const cfg: InjectorConfig = decodeInjectorConfig(parseYaml(configMapData(INJECTOR_CONFIG_FILE)), { requireTls: true });
const dir = tempDir('tb-sidecar-cfg-');

/** The environment the injector gives the sidecar, with the kubelet's `$(VAR)` expansion done. */
function injectedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of sidecarEnv(sidecarSettings(cfg))) {
    out[e.name] = e.value === undefined ? `downward-api-${e.name.toLowerCase()}` : e.value.replace(/\$\((\w+)\)/g, (_m, n: string) => out[n] ?? '');
  }
  return out;
}

interface ShippedConfig {
  label: string;
  file: string;
  tree: Obj;
}

/** The sidecar configs: the files in xray/ and the one inside the sidecar ConfigMap. */
function shippedConfigs(): ShippedConfig[] {
  const files = filesUnder(join(MESH_CONFIGS, 'xray'), ['.yaml']).filter((f) => basename(f).startsWith('sidecar-'));
  const out = files.map((file) => ({ label: file, file, tree: parseYamlFile(file)[0]!.value as Obj }));
  const embedded = join(dir, 'sidecar-configmap.config.yaml');
  const text = configMapData(SIDECAR_CONFIGMAP_FILE);
  writeFileSync(embedded, text);
  out.push({ label: `${SIDECAR_CONFIGMAP_FILE} (data.config.yaml)`, file: embedded, tree: parseYaml(text) as Obj });
  return out;
}

/** Component types a config names that this build's registry does not have yet. */
function missingTypes(tree: Obj): string[] {
  const missing: string[] = [];
  for (const kind of ['receiver', 'processor', 'exporter', 'extension'] as Kind[]) {
    const section = tree[SECTION[kind]];
    if (!isObj(section)) continue;
    for (const id of Object.keys(section)) {
      const type = id.split('/')[0]!;
      if (!components[kind].has(type)) missing.push(`${kind} ${type}`);
    }
  }
  return missing;
}

/** `${env:NAME}` references without a default. */
function requiredEnv(tree: unknown): string[] {
  const names = new Set<string>();
  const text = JSON.stringify(tree);
  for (const m of text.matchAll(/\$\{env:([A-Za-z_]\w*)\}/g)) names.add(m[1]!);
  return [...names];
}

const configs = shippedConfigs();

describe('mesh-configs: sidecar configs pass `tracebridge-sidecar validate`', () => {
  it('ships the X-Ray OTLP config, the legacy segment config and the ConfigMap one', () => {
    assert.deepEqual(
      configs.map((c) => basename(c.label)),
      ['sidecar-xray-otlp.yaml', 'sidecar-xray-segments.yaml', 'sidecar-configmap.yaml (data.config.yaml)'],
    );
  });

  for (const c of configs) {
    it(`${c.label} is valid`, async function () {
      const missing = missingTypes(c.tree);
      if (missing.length > 0) {
        // Components other helpers are still writing: the test starts passing once they are registered.
        this.test!.title += ` (pending: not yet in sidecar/service/components.ts: ${missing.join(', ')})`;
        this.skip();
      }
      const res = await runProcess('sidecar/main.ts', ['validate', '--config', c.file], injectedEnv());
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /valid/);
    });
  }

  it('validate rejects a shipped config with a misspelt key, naming its YAML path', async () => {
    // Only components every build has, so this check always runs.
    const tree = structuredClone(configs[0]!.tree);
    const base = {
      receivers: { otlp: at(tree, 'receivers.otlp') },
      extensions: { health_check: at(tree, 'extensions.health_check') },
      exporters: { debug: {} },
      service: { extensions: ['health_check'], pipelines: { traces: { receivers: ['otlp'], exporters: ['debug'] } }, telemetry: at(tree, 'service.telemetry') },
    };
    const good = join(dir, 'good.yaml');
    writeFileSync(good, stringify(base));
    assert.equal((await runProcess('sidecar/main.ts', ['validate', '--config', good], injectedEnv())).code, 0);
    const typo = structuredClone(base) as { extensions: { health_check: Obj } };
    typo.extensions.health_check = { endpiont: '0.0.0.0:13133' };
    const bad = join(dir, 'typo.yaml');
    writeFileSync(bad, stringify(typo));
    const res = await runProcess('sidecar/main.ts', ['validate', '--config', bad], injectedEnv());
    assert.equal(res.code, 1);
    assert.match(res.stderr, /extensions\.health_check\.endpiont/);
  });
});

describe('mesh-configs: sidecar configs agree with the injector', () => {
  it('the ConfigMap holds exactly mesh-configs/xray/sidecar-xray-otlp.yaml', () => {
    const otlp = configs.find((c) => c.label.endsWith('sidecar-xray-otlp.yaml'))!;
    assert.deepEqual(parseYaml(configMapData(SIDECAR_CONFIGMAP_FILE)), otlp.tree);
  });

  it('the ConfigMap has the name and key the injector mounts (sidecar.config_map, TRACEBRIDGE_CONFIG)', () => {
    const cm = findObject(SIDECAR_CONFIGMAP_FILE, 'ConfigMap');
    assert.equal(cm.metadata.name, cfg.sidecar.config_map);
    assert.ok(isObj(cm.data) && typeof cm.data[posix.basename(CONFIG_PATH)] === 'string');
    const env = injectedEnv();
    assert.equal(env.TRACEBRIDGE_CONFIG, CONFIG_PATH);
  });

  for (const c of configs) {
    it(`${c.label}: every \${env:NAME} without a default is set by the injector`, () => {
      const env = injectedEnv();
      for (const name of requiredEnv(c.tree)) assert.ok(env[name] !== undefined, `${name} is not in the injected environment`);
    });

    it(`${c.label}: binds the ports the injector declares, probes and excludes from the mesh`, () => {
      const p = cfg.sidecar.ports;
      const expect = (path: string, host: string, port: number) => {
        const hp = hostPort(at(c.tree, path));
        assert.deepEqual(hp, { host, port }, path);
        assert.equal(meshReservedRange(port), undefined, `${path}: in a mesh proxy's port range`);
      };
      expect('receivers.otlp.protocols.grpc.endpoint', '127.0.0.1', p.otlp_grpc);
      expect('receivers.otlp.protocols.http.endpoint', '127.0.0.1', p.otlp_http);
      expect('receivers.zipkin.endpoint', '127.0.0.1', p.zipkin);
      expect('receivers.awsxray.endpoint', '127.0.0.1', p.xray);
      expect('receivers.awsxray.proxy_server.endpoint', '127.0.0.1', p.xray);
      // The kubelet's probes reach the health check from outside the pod.
      expect('extensions.health_check.endpoint', '0.0.0.0', p.health);
      assert.ok((at(c.tree, 'service.extensions') as string[]).includes('health_check'));
      // The metrics address follows the injector's TRACEBRIDGE_METRICS_ADDRESS.
      assert.match(String(at(c.tree, 'service.telemetry.metrics.address')), /^\$\{env:TRACEBRIDGE_METRICS_ADDRESS:-127\.0\.0\.1:8888\}$/);
      assert.equal(injectedEnv().TRACEBRIDGE_METRICS_ADDRESS, `0.0.0.0:${p.metrics}`);
    });
  }

  it('the ConfigMap config binds what the embedded default binds (a pod behaves the same with or without it)', () => {
    const all = { receiver: new Set(['otlp', 'zipkin', 'awsxray']), processor: new Set<string>(), exporter: new Set(['debug']) };
    const def = embeddedDefault({}, all).config;
    const shipped = parseYaml(configMapData(SIDECAR_CONFIGMAP_FILE)) as Obj;
    for (const path of ['receivers.otlp.protocols.grpc.endpoint', 'receivers.otlp.protocols.http.endpoint', 'receivers.zipkin.endpoint', 'receivers.awsxray.endpoint', 'receivers.awsxray.proxy_server.endpoint', 'extensions.health_check.endpoint']) {
      assert.equal(at(shipped, path), at(def, path), path);
    }
  });

  it('the X-Ray OTLP config signs with SigV4 for service xray and exports to the injected traces endpoint', () => {
    const otlp = configs.find((c) => c.label.endsWith('sidecar-xray-otlp.yaml'))!.tree;
    assert.equal(at(otlp, 'extensions.sigv4auth.service'), 'xray');
    assert.equal(at(otlp, 'exporters.otlphttp/xray.auth.authenticator'), 'sigv4auth');
    assert.equal(at(otlp, 'exporters.otlphttp/xray.traces_endpoint'), '${env:OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}');
    assert.match(String(cfg.sidecar.exporter.traces_endpoint), /^https:\/\/xray\.[a-z0-9-]+\.amazonaws\.com\/v1\/traces$/);
    assert.equal(cfg.sidecar.exporter.traces_endpoint, `https://xray.${String(cfg.sidecar.exporter.region)}.amazonaws.com/v1/traces`);
    assert.equal(at(otlp, 'processors.tracecontext.on_invalid'), 'keep');
  });

  it('the legacy config exports segments and rewrites IDs the legacy path would drop', () => {
    const legacy = configs.find((c) => c.label.endsWith('sidecar-xray-segments.yaml'))!.tree;
    assert.deepEqual(at(legacy, 'service.pipelines.traces.exporters'), ['awsxray']);
    assert.equal(at(legacy, 'processors.tracecontext.on_invalid'), 'rewrite');
  });
});
