// Native sidecar (an initContainer with restartPolicy: Always) or classic container. Native
// sidecars start before the app and stop after it, so spans the app sends at start and at
// shutdown reach the sidecar; they need Kubernetes >= 1.29 (SidecarContainers beta, on by
// default; GA in 1.33). A pure function of the setting and the API server's version.
import type { NativeSetting } from './config.ts';

export type SidecarMode = 'native' | 'classic';

export interface ModeChoice {
  mode: SidecarMode;
  reason: string;
}

export interface KubeVersion {
  major: number;
  minor: number;
  gitVersion: string;
}

/** Parses the API server's `/version` body (`gitVersion: v1.29.3-eks-...`, `minor: "29+"`). */
export function parseKubeVersion(body: unknown): KubeVersion | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const git = typeof b.gitVersion === 'string' ? b.gitVersion : '';
  const m = /^v?(\d+)\.(\d+)/.exec(git);
  if (m !== null) return { major: Number(m[1]), minor: Number(m[2]), gitVersion: git };
  const major = typeof b.major === 'string' ? Number.parseInt(b.major, 10) : NaN;
  const minor = typeof b.minor === 'string' ? Number.parseInt(b.minor, 10) : NaN;
  if (Number.isInteger(major) && Number.isInteger(minor)) return { major, minor, gitVersion: git || `v${major}.${minor}` };
  return undefined;
}

/** `text` like `1.30` or `v1.30.2`, for the offline command's --kube-version. */
export function parseKubeVersionText(text: string): KubeVersion | undefined {
  return parseKubeVersion({ gitVersion: text.startsWith('v') ? text : `v${text}` });
}

export function chooseMode(setting: NativeSetting, version: KubeVersion | { unknown: string }): ModeChoice {
  if (setting === 'true') return { mode: 'native', reason: 'sidecar.native: true' };
  if (setting === 'false') return { mode: 'classic', reason: 'sidecar.native: false' };
  if ('unknown' in version) return { mode: 'classic', reason: `sidecar.native: auto and the Kubernetes version is unknown (${version.unknown})` };
  const native = version.major > 1 || (version.major === 1 && version.minor >= 29);
  return {
    mode: native ? 'native' : 'classic',
    reason: `sidecar.native: auto and Kubernetes ${version.gitVersion} ${native ? '>=' : '<'} 1.29`,
  };
}

/**
 * The offline command's mode. Without --kube-version it assumes a supported Kubernetes (>= 1.29,
 * native sidecars): every maintained release is, and assuming classic would also refuse every Job
 * and CronJob (see modeAllows in decision.ts). --kube-version 1.28 shows the classic answer.
 */
export function offlineModeChoice(setting: NativeSetting, version: KubeVersion | undefined): ModeChoice {
  if (version !== undefined || setting !== 'auto') return chooseMode(setting, version ?? { unknown: 'not needed' });
  return { mode: 'native', reason: 'sidecar.native: auto; offline, no --kube-version: assuming Kubernetes >= 1.29 (native sidecars)' };
}
