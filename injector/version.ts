// The injector's version, recorded in every status annotation: the package version.
import { VERSION } from '../sidecar/public.ts';

export const INJECTOR_VERSION = VERSION;
