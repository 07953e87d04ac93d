#!/usr/bin/env bash
# Builds the console's image, since no registry is reachable: a root file system from Debian's
# bookworm packages (debootstrap, minbase, with Python 3.11), the runtime requirements at the
# versions requirements.txt pins, the project's code with its static files collected (WhiteNoise
# serves them), run as the non-root user 10001. One image runs every process: its command is
# `web`, `worker`, `beat`, `migrate` or `manage ...` (scripts/console). Written as an OCI archive
# that `ctr images import` takes and `crane push` sends to a registry (README, "Install into a
# cluster"). Cached outside the checkout, keyed by a hash of its inputs; Debian's root file system
# is cached on its own, keyed by its package list. Run as root (debootstrap, chroot).
# CONSOLE_IMAGE_OVERLAY may name a directory whose files go over the code (the upgrade test adds a
# migration that way). Prints the directory holding console.tar and image.env (CONSOLE_IMAGE=<name>).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

SUITE=bookworm
PACKAGES=python3,python3-venv,ca-certificates
UID_GID=10001
CODE=(manage.py console tenants routes gateways templates static scripts/console)

inputs() {
  echo "$SUITE $PACKAGES $UID_GID"
  cat "$here/console.sh" "$here/debian.sh" requirements-runtime.in requirements.txt "$here/cmd/ociarchive/main.go"
  find "${CODE[@]}" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
  [ -z "$overlay" ] || (cd "$overlay" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
overlay=${CONSOLE_IMAGE_OVERLAY:-}
key=$(inputs | sha256sum | cut -c1-12)
CONSOLE_IMAGE=kube-console.local/console:$key
cache_root=${KUBE_CONSOLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-console}
out=$cache_root/console-image/$key
if [ -s "$out/console.tar" ] && [ -s "$out/image.env" ]; then
  echo "$out"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "images/console.sh: building the console image needs root (debootstrap, chroot)" >&2; exit 1; }
command -v go >/dev/null || { echo "images/console.sh: Go is needed to pack the image" >&2; exit 1; }

# The console's part: a virtualenv installed by the image's own pip and Python (its markers, such as
# python_full_version < "3.11.3", are Debian's), the code, the static files, the user.
console_root() {
  local tree=$1
  tar -C "$tree" -xf "$(debian_root "$SUITE" "$PACKAGES")"
  mkdir -p "$tree/app/scripts" "$tree/tmp/requirements"
  tar -cf - --exclude=__pycache__ --exclude='*.pyc' "${CODE[@]}" | tar -C "$tree/app" -xf -
  [ -z "$overlay" ] || cp -r "$overlay/." "$tree/app/"
  cp requirements-runtime.in requirements.txt "$tree/tmp/requirements/"
  # For pip, during the build only: this machine's name servers and the certificates it trusts (a
  # proxy in between may sign with its own).
  cp /etc/resolv.conf "$tree/etc/resolv.conf"
  cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$tree/tmp/requirements/trusted.crt"
  # The few devices Python and pip open, for the chroot only: a pod's runtime provides /dev.
  mknod -m 666 "$tree/dev/null" c 1 3
  mknod -m 666 "$tree/dev/urandom" c 1 9
  chroot "$tree" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
    PIP_CERT=/tmp/requirements/trusted.crt ${PIP_INDEX_URL:+PIP_INDEX_URL=$PIP_INDEX_URL} /bin/sh -ec '
    python3 -m venv /app/.venv
    /app/.venv/bin/pip install -q --no-cache-dir --only-binary=:all: --disable-pip-version-check \
      -r /tmp/requirements/requirements-runtime.in -c /tmp/requirements/requirements.txt
    /app/.venv/bin/pip uninstall -q -y pip
    cd /app
    CONSOLE_MODE=production DJANGO_SECRET_KEY=collectstatic-only-collectstatic-only-collectstatic-only \
      .venv/bin/python manage.py collectstatic --noinput -v 0
    .venv/bin/python -m compileall -q /app/console /app/tenants /app/routes /app/gateways
  '
  rm -rf "$tree/tmp/requirements" "$tree"/dev/*
  : > "$tree/etc/resolv.conf"
  echo "console:x:$UID_GID:$UID_GID:console:/app:/usr/sbin/nologin" >> "$tree/etc/passwd"
  echo "console:x:$UID_GID:" >> "$tree/etc/group"
  chmod 1777 "$tree/tmp"
}

pack() {
  local tree=$staging/tree
  mkdir -p "$tree"
  console_root "$tree"
  pack_image "$tree" "$staging/console.tar" -name "$CONSOLE_IMAGE" -entrypoint /app/scripts/console -cmd web \
    -user "$UID_GID" -workdir /app -env PATH=/app/.venv/bin:/usr/bin:/bin -env LANG=C.UTF-8 \
    -env PYTHONDONTWRITEBYTECODE=1 -env PYTHONUNBUFFERED=1 -env CONSOLE_MODE=production
}

mkdir -p "$cache_root/console-image" "$cache_root/rootfs"
staging=$(mktemp -d "$cache_root/console-image/.build.XXXXXX")
trap 'unmount_under "$staging"; rm -rf "$staging"' EXIT
. "$here/debian.sh"
. "$here/../build_step.sh"
build_step "$cache_root/logs/console-image.log" "the console image" "3 minutes (30 s once Debian's part is cached)" pack
printf 'CONSOLE_IMAGE=%s\n' "$CONSOLE_IMAGE" > "$staging/image.env"
rm -rf "$out"
mv "$staging" "$out"
trap - EXIT
# Each change of the code makes a new image: keep the three newest.
ls -1dt "$cache_root"/console-image/*/ | tail -n +4 | xargs -r rm -rf
echo "$out"
