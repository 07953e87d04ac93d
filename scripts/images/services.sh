#!/usr/bin/env bash
# Builds the images of the PostgreSQL and Redis the chart can bundle for trying the console out
# (scripts/chart: postgresql.enabled, redis.enabled), from Debian's bookworm packages like the
# console's image: postgresql-15 (with scripts/images/postgresql/entrypoint.sh, which creates the
# cluster on first start) and redis-server, each run as the user its package creates. Cached outside
# the checkout, keyed by a hash of the inputs. Run as root (debootstrap, chroot).
# Prints the directory holding postgresql.tar, redis.tar and images.env (POSTGRESQL_IMAGE,
# POSTGRESQL_UID, REDIS_IMAGE, REDIS_UID).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

SUITE=bookworm
POSTGRESQL_PACKAGES=postgresql-15
REDIS_PACKAGES=redis-server
key=$(echo "$SUITE $POSTGRESQL_PACKAGES $REDIS_PACKAGES" | cat - "$here/services.sh" "$here/debian.sh" \
  "$here/postgresql/entrypoint.sh" "$here/cmd/ociarchive/main.go" | sha256sum | cut -c1-12)
POSTGRESQL_IMAGE=kube-console.local/postgresql:15-$key
REDIS_IMAGE=kube-console.local/redis:7-$key
cache_root=${KUBE_CONSOLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-console}
out=$cache_root/services-images/$key
if [ -s "$out/postgresql.tar" ] && [ -s "$out/redis.tar" ] && [ -s "$out/images.env" ]; then
  echo "$out"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "images/services.sh: building these images needs root (debootstrap, chroot)" >&2; exit 1; }
command -v go >/dev/null || { echo "images/services.sh: Go is needed to pack the images" >&2; exit 1; }

uid_of() { awk -F: -v user="$2" '$1 == user {print $3}' "$1/etc/passwd"; }

build() {
  local tree=$staging/postgresql
  mkdir -p "$tree"
  tar -C "$tree" -xf "$(debian_root "$SUITE" "$POSTGRESQL_PACKAGES")"
  install -m 0755 "$here/postgresql/entrypoint.sh" "$tree/usr/local/bin/postgresql-entrypoint"
  rm -rf "$tree/var/lib/postgresql/15/main" "$tree/etc/postgresql/15/main"  # the package's own cluster
  chmod 1777 "$tree/tmp"
  POSTGRESQL_UID=$(uid_of "$tree" postgres)
  pack_image "$tree" "$staging/postgresql.tar" -name "$POSTGRESQL_IMAGE" -entrypoint /usr/local/bin/postgresql-entrypoint \
    -user "$POSTGRESQL_UID" -env PATH=/usr/lib/postgresql/15/bin:/usr/bin:/bin -env LANG=C.UTF-8
  tree=$staging/redis
  mkdir -p "$tree"
  tar -C "$tree" -xf "$(debian_root "$SUITE" "$REDIS_PACKAGES")"
  chmod 1777 "$tree/tmp"
  REDIS_UID=$(uid_of "$tree" redis)
  pack_image "$tree" "$staging/redis.tar" -name "$REDIS_IMAGE" -entrypoint /usr/bin/redis-server \
    -user "$REDIS_UID" -env PATH=/usr/bin:/bin
  printf 'POSTGRESQL_IMAGE=%s\nPOSTGRESQL_UID=%s\nREDIS_IMAGE=%s\nREDIS_UID=%s\n' \
    "$POSTGRESQL_IMAGE" "$POSTGRESQL_UID" "$REDIS_IMAGE" "$REDIS_UID" > "$staging/images.env"
}

mkdir -p "$cache_root/services-images"
staging=$(mktemp -d "$cache_root/services-images/.build.XXXXXX")
trap 'unmount_under "$staging"; rm -rf "$staging"' EXIT
. "$here/debian.sh"
. "$here/../build_step.sh"
build_step "$cache_root/logs/services-images.log" "the bundled PostgreSQL and Redis images" "2 minutes" build
rm -rf "$out"
mv "$staging" "$out"
trap - EXIT
echo "$out"
