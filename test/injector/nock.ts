// nock patches node:http and node:net for the whole process as soon as it is evaluated, which
// breaks gRPC (HTTP/2) tests in other files. It is therefore imported lazily, switched on in a
// `before` and restored in the `after` of the files that mock the Kubernetes API.
import type Nock from 'nock';

export type { Nock };

export async function nockOn(): Promise<typeof Nock> {
  const nock = (await import('nock')).default;
  if (!nock.isActive()) nock.activate();
  return nock;
}

export function nockOff(nock: typeof Nock | undefined): void {
  if (nock === undefined) return;
  nock.cleanAll();
  nock.enableNetConnect();
  if (nock.isActive()) nock.restore();
}
