// Config of the `sigv4auth` extension, with the collector-contrib sigv4authextension's fields.
// `region` and `service` may be left out when every URL it signs names them
// (`https://xray.us-east-1.amazonaws.com/...` → service xray, region us-east-1).
import { object, string, withDefault } from '../../config/schema.ts';

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const region = () => string({ pattern: REGION, patternHint: 'an AWS region such as us-east-1' });

export const sigv4authConfig = object({
  region: region(),
  /** Signing name; `xray` for X-Ray's OTLP endpoint. */
  service: string({ nonEmpty: true }),
  /** Assume this role with the default credential chain's credentials (EKS Pod Identity, IRSA, env, instance role). */
  assume_role: withDefault(
    object({
      arn: string({ pattern: /^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, patternHint: 'an IAM role ARN' }),
      /** Region of the STS endpoint used to assume the role (default: `region`). */
      sts_region: region(),
      session_name: withDefault(string({ nonEmpty: true }), 'tracebridge'),
    }),
    { session_name: 'tracebridge' },
  ),
});

export type Sigv4authConfig = typeof sigv4authConfig.defaultValue;
