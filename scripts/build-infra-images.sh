#!/usr/bin/env bash
# Build the local infrastructure images of docker/docker-compose.local.yml (Kafka from the
# jars in .stack/kafka/libs, Redis and PostgreSQL + pgvector from Debian packages) on the
# local Debian base. Cached: an existing image is kept (FORCE=1 rebuilds).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/containers-env.sh
. scripts/containers-env.sh
BASE_IMAGE="${BASE_IMAGE:-localhost/enginedge-base:bookworm}"
./scripts/build-base-image.sh "$BASE_IMAGE"
if [ ! -d .stack/kafka/libs ]; then
  echo "no Kafka jars in .stack/kafka/libs: run \`make stack-up\` (or \`enginedge stack up\`) once" >&2
  exit 1
fi
CACERT="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
secrets="$(mktemp -d)"
trap 'rm -rf "$secrets"' EXIT
if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$secrets/pip.conf"; else : > "$secrets/pip.conf"; fi
for target in redis postgres kafka; do
  name="localhost/enginedge-local/$target:latest"
  if [ -z "${FORCE:-}" ] && podman image exists "$name"; then
    echo "$name is present"; continue
  fi
  start=$(date +%s)
  buildah bud --layers --format docker --isolation chroot \
    --ignorefile docker/local/infra.Dockerfile.dockerignore -f docker/local/infra.Dockerfile \
    --target "$target" --build-arg PYTHON_IMAGE="$BASE_IMAGE" \
    --secret id=cacert,src="$CACERT" --secret id=pipconf,src="$secrets/pip.conf" \
    -t "$name" . >/dev/null
  echo "$name built in $(( $(date +%s) - start )) s"
done
