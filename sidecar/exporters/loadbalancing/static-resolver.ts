// The `static` resolver: a fixed list of backends, announced once.
import type { Resolver } from './resolver.ts';
import type { ResolutionCounter } from './obs.ts';

export class StaticResolver implements Resolver {
  private readonly endpoints: readonly string[];
  private readonly resolutions: ResolutionCounter;

  constructor(hostnames: readonly string[], resolutions: ResolutionCounter) {
    this.endpoints = [...new Set(hostnames)].sort();
    this.resolutions = resolutions;
  }

  start(onChange: (endpoints: readonly string[]) => void): Promise<void> {
    this.resolutions.success.add(1);
    onChange(this.endpoints);
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
