// The AdmissionReview envelope (admission.k8s.io/v1) both webhook endpoints read: /mutate (pods)
// and /validate-configmap. Anything else is malformed and answered 400 by the caller.
import { isRecord } from './pod.ts';

/** The `request` of an AdmissionReview, as far as the injector reads it (shapes checked by users). */
export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: string;
  namespace?: string;
  name?: string;
  dryRun?: boolean;
  object?: unknown;
}

export class MalformedReview extends Error {}

export function parseReview(body: Buffer): AdmissionRequest {
  let review: unknown;
  try {
    review = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MalformedReview('body is not JSON');
  }
  if (!isRecord(review)) throw new MalformedReview('body is not a JSON object');
  if (review.kind !== 'AdmissionReview') throw new MalformedReview('kind must be AdmissionReview');
  if (review.apiVersion !== 'admission.k8s.io/v1') {
    throw new MalformedReview(`apiVersion must be admission.k8s.io/v1 (got ${JSON.stringify(review.apiVersion)}); set admissionReviewVersions: [v1]`);
  }
  const req = review.request;
  if (!isRecord(req)) throw new MalformedReview('request is missing');
  if (typeof req.uid !== 'string' || req.uid === '') throw new MalformedReview('request.uid is missing');
  return req as unknown as AdmissionRequest;
}
