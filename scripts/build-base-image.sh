#!/usr/bin/env bash
# Build the local base image of the worker images (no registry needed):
#   debootstrap --variant=minbase bookworm + Debian's python3 (3.11) -> podman import.
# Cached: does nothing when the image exists (FORCE=1 rebuilds). The Debian mirror is
# the machine's own (from /etc/apt/sources.list{,.d}); override with DEBIAN_MIRROR=.
#   scripts/build-base-image.sh [image-name]     (default localhost/enginedge-base:bookworm)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/containers-env.sh
. scripts/containers-env.sh
./scripts/install-container-tools.sh
NAME="${1:-${BASE_IMAGE:-localhost/enginedge-base:bookworm}}"
SUITE=bookworm
if [ -z "${FORCE:-}" ] && podman image exists "$NAME"; then
  echo "base image $NAME is present (FORCE=1 rebuilds)"
  exit 0
fi

mirror() {  # the first Debian mirror this machine's apt uses for $SUITE
  local uri=""
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    uri="$(awk -v s="$SUITE" '
      /^URIs:/ {u=$2} /^Suites:/ {for (i=2;i<=NF;i++) if ($i==s) found=1}
      /^$/ {if (found && u!="") {print u; exit} found=0; u=""}
      END {if (found && u!="") print u}' /etc/apt/sources.list.d/*.sources | grep -v security | head -1)"
  fi
  if [ -z "$uri" ]; then
    uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk -v s="$SUITE" '$1=="deb" {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {u=$i; d=$(i+1); break}
                             if (d==s) {print u; exit}}')"
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR="${DEBIAN_MIRROR:-$(mirror)}"
ROOTFS="$(mktemp -d /var/tmp/enginedge-base.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT
echo "debootstrap $SUITE from $MIRROR into $ROOTFS"
start=$(date +%s)
# python-is-python3: `python` as in the python:3.11 images; passwd: useradd in the Dockerfile.
debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,passwd \
  "$SUITE" "$ROOTFS" "$MIRROR" >/dev/null
# Slim like python:*-slim: no apt lists, docs or man pages in the base layer.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/usr/share/doc/* \
  "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*
tar -C "$ROOTFS" -c . | podman import \
  --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --message "debootstrap $SUITE minbase + python3 from $MIRROR" - "$NAME" >/dev/null
echo "base image $NAME built in $(( $(date +%s) - start )) s"
