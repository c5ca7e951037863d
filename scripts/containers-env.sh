# Source this file: points podman/buildah at the project's own container settings
# (docker/containers/*.conf), never at the machine's global configuration.
#   . scripts/containers-env.sh && podman images
# Storage: overlay when the kernel has it and /var/lib is not itself on overlayfs,
# else vfs (CONTAINERS_STORAGE_DRIVER=vfs|overlay forces one; ENGINEDGE_STORAGE_CONF=<file>
# uses another storage.conf, e.g. an empty store to time a build from scratch).
_ee_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CONTAINERS_CONF="$_ee_root/docker/containers/containers.conf"
_ee_driver="${CONTAINERS_STORAGE_DRIVER:-}"
if [ -z "$_ee_driver" ]; then
  if grep -qw overlay /proc/filesystems 2>/dev/null \
     && [ "$(stat -f -c %T /var/lib 2>/dev/null)" != overlayfs ]; then
    _ee_driver=overlay
  else
    _ee_driver=vfs
  fi
fi
if [ -n "${ENGINEDGE_STORAGE_CONF:-}" ]; then  # another image store (e.g. to time a cold build)
  export CONTAINERS_STORAGE_CONF="$ENGINEDGE_STORAGE_CONF"
elif [ "$_ee_driver" = vfs ]; then
  export CONTAINERS_STORAGE_CONF="$_ee_root/docker/containers/storage-vfs.conf"
else
  export CONTAINERS_STORAGE_CONF="$_ee_root/docker/containers/storage.conf"
fi
export BUILDAH_ISOLATION=chroot
export BUILDAH_FORMAT=docker  # keeps HEALTHCHECK (the OCI format drops it)
unset _ee_root _ee_driver
