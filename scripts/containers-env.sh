# Source this file: points podman/buildah at the project's own container settings
# (docker/containers/*.conf) and installs the Debian container tools when missing.
#   . scripts/containers-env.sh && podman images
_ee_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CONTAINERS_CONF="$_ee_root/docker/containers/containers.conf"
export CONTAINERS_STORAGE_CONF="$_ee_root/docker/containers/storage.conf"
export BUILDAH_ISOLATION=chroot
export BUILDAH_FORMAT=docker  # keeps HEALTHCHECK (the OCI format drops it)
unset _ee_root
