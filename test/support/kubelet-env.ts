// What the kubelet does with a container's env before the process starts: valueFrom resolved
// (downward API fields, Secret and ConfigMap keys), then `$(NAME)` expanded from the variables
// defined earlier in the same list (`$$(NAME)` stays a literal `$(NAME)`; unknown names stay as
// written). Lets a test start a process with exactly the env an injected pod would give it.
import type { EnvVar } from '../../injector/pod.ts';

export interface PodWorld {
  /** fieldRef paths: metadata.name, metadata.namespace, status.hostIP, ... */
  fields: Record<string, string>;
  secrets?: Record<string, Record<string, string>>;
  configMaps?: Record<string, Record<string, string>>;
}

interface ValueFrom {
  fieldRef?: { fieldPath: string };
  secretKeyRef?: { name: string; key: string };
  configMapKeyRef?: { name: string; key: string };
}

export function kubeletEnv(env: readonly EnvVar[] | undefined, world: PodWorld): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    if (e.valueFrom !== undefined) {
      const from = e.valueFrom as ValueFrom;
      let value: string | undefined;
      if (from.fieldRef) value = world.fields[from.fieldRef.fieldPath];
      else if (from.secretKeyRef) value = world.secrets?.[from.secretKeyRef.name]?.[from.secretKeyRef.key];
      else if (from.configMapKeyRef) value = world.configMaps?.[from.configMapKeyRef.name]?.[from.configMapKeyRef.key];
      if (value === undefined) throw new Error(`${e.name}: cannot resolve ${JSON.stringify(e.valueFrom)} (the kubelet would not start the container)`);
      out[e.name] = value;
      continue;
    }
    out[e.name] = (e.value ?? '').replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => {
      if (name === undefined) return '$';
      return name in out ? out[name]! : m;
    });
  }
  return out;
}
