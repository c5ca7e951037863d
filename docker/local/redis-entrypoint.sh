#!/bin/sh
# Like the redis image: a container is reached over its network, not loopback, so
# protected mode (which refuses those clients when no password is set) is off.
if [ "$1" = redis-server ]; then
  shift
  exec redis-server "$@" --protected-mode no
fi
exec "$@"
