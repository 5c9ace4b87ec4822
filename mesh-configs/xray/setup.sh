#!/usr/bin/env bash
# AWS side of the X-Ray quick start, with the aws CLI (v2). Each step is idempotent enough to
# re-run after fixing a failure; read a step before running it in a shared account.
#
#   AWS_REGION=us-east-1 ./setup.sh transaction-search
#   AWS_REGION=us-east-1 ./setup.sh iam-policy
#   AWS_REGION=us-east-1 CLUSTER=prod NAMESPACE=shop SERVICE_ACCOUNT=checkout ./setup.sh pod-identity
#   AWS_REGION=us-east-1 CLUSTER=prod NAMESPACE=shop SERVICE_ACCOUNT=checkout ./setup.sh irsa
#
# Steps:
#   transaction-search  Prerequisite of X-Ray's OTLP endpoint (account-wide, per region): a
#                       CloudWatch Logs resource policy letting X-Ray write spans to the aws/spans
#                       and /aws/application-signals/data log groups, then the segment destination
#                       set to CloudWatchLogs (status goes PENDING -> ACTIVE in minutes), and the
#                       share of spans indexed as trace summaries (INDEXING_PERCENT, default 1: free).
#                       Needs xray:UpdateTraceSegmentDestination, xray:UpdateIndexingRule,
#                       logs:PutResourcePolicy. The legacy segment path does not need it.
#   iam-policy          Creates the policy in iam-policy.json (what the sidecar calls).
#   pod-identity        EKS Pod Identity: a role trusted by pods.eks.amazonaws.com, the policy
#                       attached, the eks-pod-identity-agent add-on, and one association for the
#                       app's ServiceAccount.
#   irsa                IAM roles for service accounts: a role trusted by the cluster's OIDC provider
#                       for system:serviceaccount:$NAMESPACE:$SERVICE_ACCOUNT, the policy attached;
#                       prints the ServiceAccount annotation to apply (serviceaccount-irsa.yaml).
#                       Needs the cluster's IAM OIDC provider (eksctl utils associate-iam-oidc-provider).
#
# The sidecar runs in the application's pod, under the application's ServiceAccount: that is the
# ServiceAccount to associate (one association, or one trust condition, per ServiceAccount).
set -euo pipefail

: "${AWS_REGION:?set AWS_REGION, e.g. us-east-1}"
export AWS_REGION
PARTITION=${AWS_PARTITION:-aws}
POLICY_NAME=${POLICY_NAME:-tracebridge-xray}
ROLE_NAME=${ROLE_NAME:-tracebridge-xray}
INDEXING_PERCENT=${INDEXING_PERCENT:-1}
HERE=$(cd "$(dirname "$0")" && pwd)

account_id() {
  aws sts get-caller-identity --query Account --output text
}

need() {
  local name
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then
      echo "setup.sh: set $name" >&2
      exit 2
    fi
  done
}

transaction_search() {
  local account
  account=$(account_id)
  aws logs put-resource-policy --policy-name TransactionSearchXRayAccess --policy-document "$(
    cat <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "TransactionSearchXRayAccess",
      "Effect": "Allow",
      "Principal": { "Service": "xray.amazonaws.com" },
      "Action": "logs:PutLogEvents",
      "Resource": [
        "arn:${PARTITION}:logs:${AWS_REGION}:${account}:log-group:aws/spans:*",
        "arn:${PARTITION}:logs:${AWS_REGION}:${account}:log-group:/aws/application-signals/data:*"
      ],
      "Condition": {
        "ArnLike": { "aws:SourceArn": "arn:${PARTITION}:xray:${AWS_REGION}:${account}:*" },
        "StringEquals": { "aws:SourceAccount": "${account}" }
      }
    }
  ]
}
EOF
  )"
  aws xray update-trace-segment-destination --destination CloudWatchLogs
  aws xray update-indexing-rule --name Default \
    --rule "{\"Probabilistic\": {\"DesiredSamplingPercentage\": ${INDEXING_PERCENT}}}"
  # Destination: CloudWatchLogs, Status: PENDING until ACTIVE (a few minutes).
  aws xray get-trace-segment-destination
}

iam_policy() {
  aws iam create-policy --policy-name "$POLICY_NAME" \
    --description "tracebridge sidecar: X-Ray OTLP endpoint, segments and sampling" \
    --policy-document "file://${HERE}/iam-policy.json"
}

policy_arn() {
  echo "arn:${PARTITION}:iam::$(account_id):policy/${POLICY_NAME}"
}

pod_identity() {
  need CLUSTER NAMESPACE SERVICE_ACCOUNT
  local role_arn
  role_arn=$(aws iam create-role --role-name "$ROLE_NAME" --query Role.Arn --output text \
    --assume-role-policy-document '{
      "Version": "2012-10-17",
      "Statement": [{
        "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
        "Effect": "Allow",
        "Principal": { "Service": "pods.eks.amazonaws.com" },
        "Action": ["sts:AssumeRole", "sts:TagSession"]
      }]
    }')
  aws iam attach-role-policy --role-name "$ROLE_NAME" --policy-arn "$(policy_arn)"
  # The agent (a DaemonSet) serves the credentials; EKS Auto Mode clusters have it already.
  if ! aws eks describe-addon --cluster-name "$CLUSTER" --addon-name eks-pod-identity-agent >/dev/null 2>&1; then
    aws eks create-addon --cluster-name "$CLUSTER" --addon-name eks-pod-identity-agent
  fi
  aws eks create-pod-identity-association --cluster-name "$CLUSTER" \
    --namespace "$NAMESPACE" --service-account "$SERVICE_ACCOUNT" --role-arn "$role_arn"
  echo "Restart the pods of $NAMESPACE/$SERVICE_ACCOUNT: credentials are injected at pod creation."
}

irsa() {
  need CLUSTER NAMESPACE SERVICE_ACCOUNT
  local account issuer provider role_arn
  account=$(account_id)
  issuer=$(aws eks describe-cluster --name "$CLUSTER" --query cluster.identity.oidc.issuer --output text)
  provider=${issuer#https://}
  role_arn=$(aws iam create-role --role-name "$ROLE_NAME" --query Role.Arn --output text \
    --assume-role-policy-document "$(
      cat <<EOF
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": { "Federated": "arn:${PARTITION}:iam::${account}:oidc-provider/${provider}" },
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {
      "StringEquals": {
        "${provider}:sub": "system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}",
        "${provider}:aud": "sts.amazonaws.com"
      }
    }
  }]
}
EOF
    )")
  aws iam attach-role-policy --role-name "$ROLE_NAME" --policy-arn "$(policy_arn)"
  echo "kubectl -n $NAMESPACE annotate serviceaccount $SERVICE_ACCOUNT eks.amazonaws.com/role-arn=$role_arn"
  echo "Then restart the pods of $NAMESPACE/$SERVICE_ACCOUNT."
}

if [ $# -eq 0 ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d'
  exit 2
fi
for step in "$@"; do
  case "$step" in
    transaction-search) transaction_search ;;
    iam-policy) iam_policy ;;
    pod-identity) pod_identity ;;
    irsa) irsa ;;
    *)
      echo "setup.sh: unknown step $step (transaction-search, iam-policy, pod-identity, irsa)" >&2
      exit 2
      ;;
  esac
done
