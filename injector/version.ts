// The injector's version, recorded in every status annotation: the package version.
import { VERSION } from '../sidecar/version.ts';

export const INJECTOR_VERSION = VERSION;
