#!/usr/bin/env bash
# Build worker images from docker/Dockerfile with buildah on the local Debian base.
#   scripts/build-image.sh spacy            one worker  -> enginedge/worker-spacy:<version>
#   scripts/build-image.sh all              every registered worker, one after the other
# Layers are cached (--layers): the dependency layer is keyed on setup.cfg, so a source
# change reinstalls only the package. Build times go to var/images/build-times.tsv.
# pip and apt get the machine's package index settings and CA bundle as build secrets
# (never a layer): /etc/pip.conf + PIP_INDEX_URL/PIP_EXTRA_INDEX_URL/PIP_TRUSTED_HOST,
# and the CA bundle pip/OpenSSL use here.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/containers-env.sh
. scripts/containers-env.sh
BASE_IMAGE="${BASE_IMAGE:-localhost/enginedge-base:bookworm}"
./scripts/build-base-image.sh "$BASE_IMAGE"
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' enginedge_streams/version.py)"
workers=("$@")
if [ "${#workers[@]}" -eq 0 ] || [ "${workers[0]}" = all ]; then
  mapfile -t workers < <("$PY" -c 'import agents; print("\n".join(agents.available()))')
fi

secrets="$(mktemp -d)"
trap 'rm -rf "$secrets"' EXIT
# pip: the machine's pip.conf plus what the environment sets, merged into one file.
"$PY" - "$secrets/pip.conf" <<'PYEOF'
import configparser, os, sys
cfg = configparser.ConfigParser()
cfg.read([p for p in ("/etc/pip.conf", os.path.expanduser("~/.config/pip/pip.conf"),
          os.environ.get("PIP_CONFIG_FILE", "")) if p and os.path.isfile(p)])
if not cfg.has_section("global"):
    cfg.add_section("global")
for env, key in (("PIP_INDEX_URL", "index-url"), ("PIP_EXTRA_INDEX_URL", "extra-index-url"),
                 ("PIP_TRUSTED_HOST", "trusted-host"), ("PIP_DEFAULT_TIMEOUT", "timeout")):
    if os.environ.get(env):
        cfg.set("global", key, os.environ[env])
# The CA bundle is mounted at the Debian path inside the build (see the Dockerfile).
cfg.set("global", "cert", "/etc/ssl/certs/ca-certificates.crt")
with open(sys.argv[1], "w") as f:
    cfg.write(f)
PYEOF
CACERT="${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
[ -f "$CACERT" ] || CACERT=/etc/ssl/certs/ca-certificates.crt

mkdir -p var/images
for worker in "${workers[@]}"; do
  name="enginedge/worker-${worker//_/-}:$VERSION"
  echo "== building $name"
  start=$(date +%s)
  buildah bud --layers --format docker --isolation chroot \
    --ignorefile docker/Dockerfile.dockerignore -f docker/Dockerfile \
    --build-arg PYTHON_IMAGE="$BASE_IMAGE" --build-arg WORKER="$worker" \
    ${EXTRAS:+--build-arg EXTRAS="$EXTRAS"} ${TEX_PROFILE:+--build-arg TEX_PROFILE="$TEX_PROFILE"} \
    --secret id=pipconf,src="$secrets/pip.conf" --secret id=cacert,src="$CACERT" \
    -t "$name" . 2>&1 | sed -u "s/^/[$worker] /" | grep --line-buffered -v -E '^\[[a-z_]+\] +(Copying blob|Writing manifest|Storing signatures)' || {
      echo "build of $worker failed"; exit 1; }
  took=$(( $(date +%s) - start ))
  size="$(podman image inspect --format '{{.Size}}' "$name")"
  printf '%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$worker" "$took" "$size" >> var/images/build-times.tsv
  echo "== $name built in ${took}s, $(( size / 1000000 )) MB"
done
