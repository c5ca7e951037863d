#!/usr/bin/env bash
# Install Debian's podman, buildah, runc, debootstrap, podman-compose, catatonit (pod infra)
# and the CNI dnsname plugin when missing
# (idempotent; used by `make image`, `make deploy-test` and the CI image test).
set -euo pipefail
need=()
for pair in podman:podman buildah:buildah runc:runc debootstrap:debootstrap \
            podman-compose:podman-compose kcat:kcat catatonit:catatonit; do
  command -v "${pair#*:}" >/dev/null 2>&1 || need+=("${pair%%:*}")
done
# CNI's dnsname plugin: Compose service names (kafka, redis) on podman-compose's network.
[ -e /usr/lib/cni/dnsname ] || need+=(golang-github-containernetworking-plugin-dnsname)
[ "${#need[@]}" -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "installing container tools: ${need[*]}"
if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
