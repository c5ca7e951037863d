#!/usr/bin/env bash
# CI's container check (`make deploy-smoke`, run by .ci/run after `make test`): one worker
# image built and run end to end - the local Debian base image (debootstrap, cached), the
# worker's image (layers cached), then tests/deploy/test_images.py for that worker on the
# local stack (/ready, a kcat command COMPLETED, HEALTHCHECK, SIGTERM, the RocksDB volume).
#   scripts/deploy-smoke.sh [worker]     default: identity (the smallest image)
# Skipped, not failed, where containers cannot run: DEPLOY_SMOKE=0, or podman missing and
# not installable (no apt, no root), or `podman info` failing (no cgroups/namespaces).
# DEPLOY_SMOKE_BUDGET=<seconds> (set by .ci/run: what is left of CI's time limit) skips it
# when it would not fit: ~9 min on a machine without the base image (container tools from
# apt, debootstrap, every layer of the image), ~3 min with it (layers cached); measured
# figures in docs/deployment.md. The time of each step goes to var/images/deploy-smoke.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
worker="${1:-identity}"
skip() { echo "deploy-smoke: SKIPPED ($1)"; exit 0; }
[ "${DEPLOY_SMOKE:-1}" != 0 ] || skip "DEPLOY_SMOKE=0"
mkdir -p var/images
step() {  # step NAME COMMAND...: run it, append its wall time
  local name="$1" start rc
  shift
  start=$(date +%s)
  "$@" && rc=0 || rc=$?
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$worker" "$name" \
    "$(( $(date +%s) - start ))" "$rc" >> var/images/deploy-smoke.tsv
  return "$rc"
}
# shellcheck source=scripts/containers-env.sh
. scripts/containers-env.sh
if ! command -v podman >/dev/null 2>&1 || ! command -v buildah >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    skip "podman is not installed and cannot be (not root)"
  fi
  command -v apt-get >/dev/null 2>&1 || skip "podman is not installed and there is no apt-get"
fi
if [ -n "${DEPLOY_SMOKE_BUDGET:-}" ]; then
  need=540
  if command -v podman >/dev/null 2>&1 \
     && podman image exists "${BASE_IMAGE:-localhost/enginedge-base:bookworm}" 2>/dev/null; then
    need=180
  fi
  [ "$DEPLOY_SMOKE_BUDGET" -ge "$need" ] \
    || skip "needs ~${need}s here, ${DEPLOY_SMOKE_BUDGET}s of the CI time limit left"
fi
step tools ./scripts/install-container-tools.sh || skip "the container tools did not install"
podman info >/dev/null 2>&1 || skip "podman cannot run here: $(podman info 2>&1 | tail -1)"
step base ./scripts/build-base-image.sh
step image ./scripts/build-image.sh "$worker"
step test env DEPLOY_TEST=1 DEPLOY_WORKERS="$worker" \
  ./scripts/run-tests.sh tests/deploy/test_images.py
