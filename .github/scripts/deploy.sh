#!/usr/bin/env bash
# One environment's deploy, as deploy-environment.yml runs it (and as tests/canary.rs runs it
# against a temporary repository, a bare origin and a real Prometheus):
#
#   1. the environments' configuration is valid;
#   2. the version is promoted through the environment's gates, and the promotion (the
#      environment file's commit and its ledger entry) is pushed; a re-run of a job whose
#      promotion already landed skips this, since the ledger says the version runs there;
#   3. the deploy hook applies the environment's desired state (Argo CD sync, kubectl …);
#   4. the canary shifts traffic step by step and judges live metrics against the baseline
#      (the version the promotion replaced, per the ledger); a failing canary is rolled back
#      by shipgate itself, and the verdict, the rollback and the block are recorded.
#
# Exit: 0 deployed and the canary promoted; 1 a gate refused or the canary was rolled back;
# 2 could not run. Everything comes in as environment variables and reaches commands as
# quoted arguments, never as code:
#   DEPLOY_ENVIRONMENT  the environment (checked by shipgate against [environments] order)
#   DEPLOY_VERSION      a released version (checked by shipgate: a SemVer or an image tag)
#   DEPLOY_HOOK         the command that applies the desired state: repository
#                       configuration, not input; it reads DEPLOY_ENVIRONMENT and
#                       DEPLOY_VERSION from its environment (empty: nothing to apply)
#   SHIPGATE            the shipgate binary (default: shipgate on PATH)
#   EVIDENCE_DIR        where the canary's recording and charts go (default: canary)
set -euo pipefail

sg="${SHIPGATE:-shipgate}"
env="${DEPLOY_ENVIRONMENT:?set DEPLOY_ENVIRONMENT to the environment to deploy}"
version="${DEPLOY_VERSION:?set DEPLOY_VERSION to the released version to deploy}"
evidence="${EVIDENCE_DIR:-canary}"
export DEPLOY_ENVIRONMENT DEPLOY_VERSION

step() { printf '== %s\n' "$*" >&2; }

step "configuration"
"$sg" config validate

step "promote"
status_json="$("$sg" --json status --env "$env")"
running="$(jq -r '.environments[0].version // ""' <<<"$status_json")"
if [[ "$running" == "$version" ]]; then
  printf 'the ledger says %s already runs in %s: its promotion landed in an earlier attempt\n' \
    "$version" "$env" >&2
else
  "$sg" promote "$version" --to "$env" --push
fi

if [[ -n "${DEPLOY_HOOK:-}" ]]; then
  step "deploy hook"
  bash -c "$DEPLOY_HOOK"
fi

step "canary"
mkdir -p "$evidence/charts"
"$sg" canary run --env "$env" --canary-version "$version" \
  --record "$evidence/recording.json" --charts "$evidence/charts"
