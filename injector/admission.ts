// AdmissionReview handling, following the OpenTelemetry
// Operator's webhook: decode → look up the namespace → decide → the sidecar mode's veto (a
// run-to-completion pod takes only a native sidecar) → mutate a copy → JSON Patch against the
// original. Fail open: an internal error answers `allowed: true` without a patch,
// because `failurePolicy: Ignore` covers neither `allowed: false` nor a patch the API server
// cannot apply. Malformed requests answer 400.
import { sidecarSettings, type InjectorConfig, type SidecarSettings } from './config.ts';
import { decide, decisionPolicy, modeAllows, type Decision, type DecisionPolicy } from './decision.ts';
import { MalformedReview, parseReview, type AdmissionRequest } from './admission-review.ts';
import { diff } from './json-patch.ts';
import type { Logger } from './logger.ts';
import type { InjectorMetrics } from './metrics.ts';
import type { ModeChoice } from './mode.ts';
import { meshEntries } from './mesh-wiring.ts';
import { injectSidecar, takeOverOnReinvocation, type PodStep } from './mutation.ts';
import { telemetryAllows, type MeshWiringEnabled } from './reach.ts';
import { displayName, isRecord, type NamespaceInfo, type Pod } from './pod.ts';

export interface AdmissionDeps {
  config: InjectorConfig;
  version: string;
  logger: Logger;
  metrics: InjectorMetrics;
  namespace(name: string): Promise<NamespaceInfo>;
  mode(): Promise<ModeChoice>;
  /** Extra pod steps for this namespace (mesh wiring). */
  steps?(ns: NamespaceInfo): readonly PodStep[];
}

export interface AdmissionAnswer {
  status: number;
  body: unknown;
}

function answer(uid: string, patch?: readonly unknown[]): AdmissionAnswer {
  const response: Record<string, unknown> = { uid, allowed: true };
  if (patch !== undefined && patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
  }
  return { status: 200, body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response } };
}

export class AdmissionHandler {
  private readonly deps: AdmissionDeps;
  private readonly policy: DecisionPolicy;
  private readonly settings: SidecarSettings;
  private readonly meshes: MeshWiringEnabled;

  constructor(deps: AdmissionDeps) {
    this.deps = deps;
    this.policy = decisionPolicy(deps.config);
    this.settings = sidecarSettings(deps.config);
    this.meshes = { istio: deps.config.mesh.istio.enabled, linkerd: deps.config.mesh.linkerd.enabled };
  }

  async review(body: Buffer): Promise<AdmissionAnswer> {
    const { metrics, logger } = this.deps;
    let req: AdmissionRequest;
    try {
      req = parseReview(body);
    } catch (err) {
      if (!(err instanceof MalformedReview)) throw err;
      metrics.errors.add(1, { kind: 'malformed' });
      metrics.admissionReviews.add(1, { outcome: 'malformed', dry_run: 'false' });
      logger.warn({ err: err.message }, 'malformed AdmissionReview');
      return { status: 400, body: { error: err.message } };
    }
    const dryRun = req.dryRun === true;
    try {
      const { patch, log } = await this.mutate(req);
      metrics.admissionReviews.add(1, { outcome: patch.length > 0 ? 'patched' : 'allowed', dry_run: String(dryRun) });
      logger.info({ uid: req.uid, dryRun, ...log }, patch.length > 0 ? 'sidecar injected' : 'sidecar not injected');
      return answer(req.uid, patch);
    } catch (err) {
      metrics.errors.add(1, { kind: 'internal' });
      metrics.failOpen.add(1);
      metrics.admissionReviews.add(1, { outcome: 'fail_open', dry_run: String(dryRun) });
      // The error message only: a stack or the object could carry pod env values.
      logger.error({ uid: req.uid, namespace: req.namespace, err: (err as Error).message }, 'internal error: admitted without a patch (fail open)');
      return answer(req.uid);
    }
  }

  private async mutate(req: AdmissionRequest): Promise<{ patch: unknown[]; log: Record<string, unknown> }> {
    const pod = req.object;
    const meta = isRecord(pod) && isRecord(pod.metadata) ? (pod.metadata as Pod['metadata']) : undefined;
    const nsName = typeof req.namespace === 'string' && req.namespace !== '' ? req.namespace : (meta?.namespace ?? '');
    const log: Record<string, unknown> = { namespace: nsName, name: typeof req.name === 'string' && req.name !== '' ? req.name : displayName(meta) };

    if (req.operation !== undefined && req.operation !== 'CREATE') {
      // Pod specs are immutable after creation: a patch on UPDATE would fail the request.
      return this.record({ inject: false, reason: 'not-create', message: `operation ${req.operation}` }, log);
    }
    if (req.kind?.kind !== undefined && (req.kind.kind !== 'Pod' || (req.kind.group ?? '') !== '')) {
      return this.record({ inject: false, reason: 'not-a-pod', message: 'not a Pod' }, log);
    }
    const ns = await this.deps.namespace(nsName);
    const decided = decide(pod, ns, this.policy);
    const decision = (decided.inject ? telemetryAllows(pod as Pod, ns, decided, this.settings, this.meshes) : undefined) ?? decided;
    if (decision.reason === 'already-injected') {
      // Called again after a later webhook changed the pod: it may have given an app a destination.
      const again = takeOverOnReinvocation(pod as Pod, this.settings);
      if (again !== undefined) return { ...this.record(decision, { ...log, takenOverOnReinvocation: again.taken }), patch: diff(pod, again.pod) };
    }
    if (!decision.inject) return this.record(decision, log);
    const mode = await this.deps.mode();
    const refused = modeAllows(pod as Pod, mode);
    if (refused !== undefined) return this.record(refused, { ...log, mode: mode.mode });
    const { pod: mutated, status } = injectSidecar(
      pod as Pod,
      { settings: this.settings, mode, decision, version: this.deps.version, namespace: ns },
      this.deps.steps?.(ns) ?? [],
    );
    const patch = diff(pod, mutated);
    const mesh: Record<string, string> = {};
    for (const [name, entry] of meshEntries(status)) {
      this.deps.metrics.meshWiring.add(1, { mesh: name, result: entry.result });
      mesh[name] = entry.result;
      if (entry.result === 'skipped_late') {
        this.deps.logger.warn({ uid: req.uid, namespace: nsName, name: log.name, mesh: name }, 'mesh proxy injected before tracebridge: mesh wiring not applied (webhook order)');
      }
    }
    const recorded = this.record(decision, {
      ...log,
      mode: mode.mode,
      ...(Object.keys(mesh).length > 0 ? { mesh } : {}),
      ...(status.headerBridge?.enabled === true ? { headerBridge: true } : {}),
      // Per app container, whether its telemetry reaches the sidecar (names only: env may hold secrets).
      reaches: Object.fromEntries(Object.entries(status.appEnv).map(([name, w]) => [name, w.reaches])),
    });
    return { ...recorded, patch };
  }

  private record(decision: Decision, log: Record<string, unknown>): { patch: unknown[]; log: Record<string, unknown> } {
    this.deps.metrics.decisions.add(1, { inject: String(decision.inject), reason: decision.reason });
    if (decision.namespaceUnknown !== undefined) this.deps.metrics.namespaceUnknown.add(1);
    return {
      patch: [],
      log: {
        ...log,
        inject: decision.inject,
        reason: decision.reason,
        detail: decision.message,
        ...(decision.namespaceUnknown !== undefined ? { namespaceUnknown: decision.namespaceUnknown } : {}),
      },
    };
  }
}
