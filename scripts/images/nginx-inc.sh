#!/usr/bin/env bash
# Builds the image of the nginx-inc flavor's controller, the F5 NGINX Ingress Controller, since no
# registry is reachable: the controller from its upstream release source (the Go module proxy
# refuses its module, so the source comes as an archive: NGINX_INGRESS_SOURCE, else
# ../shared/vendor/ beside the checkout), and NGINX with its njs module from Debian's sid packages
# (the controller's templates need `http2 on;`, which bookworm's NGINX lacks). Laid out as upstream's
# build/scripts/common.sh lays its image out: the templates at /, the njs scripts in /etc/nginx/njs,
# NGINX's directories owned by uid 101, which the image runs as, and its logs on stdout and stderr.
# Cached outside the checkout, keyed by the version, the source and these scripts. Run as root
# (debootstrap, chroot). Prints the directory holding nginx-inc.tar and images.env (NGINX_INC_IMAGE);
# prints nothing, and says why, when the source is not at hand: gateways of the flavor then wait for
# an image the node lacks, and say so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

VERSION=5.5.4  # gateways/flavors.py pins the same
NGINX_INC_IMAGE=docker.io/nginx/nginx-ingress:$VERSION
SUITE=sid
# Debian builds NGINX's stream module as a module of its own; the controller's main template has a
# stream block.
PACKAGES=nginx,libnginx-mod-http-js,libnginx-mod-stream,ca-certificates
UID_GID=101
source=${NGINX_INGRESS_SOURCE:-$root/../shared/vendor/nginx-kubernetes-ingress-v$VERSION.tar.gz}
if [ ! -s "$source" ]; then
  echo "images/nginx-inc.sh: the F5 NGINX Ingress Controller's $VERSION source is not at $source" \
    "(NGINX_INGRESS_SOURCE names it): its image is not built, and the nginx-inc flavor cannot run here" >&2
  exit 0
fi

cache_root=${KUBE_CONSOLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-console}
key=$({ echo "$SUITE $PACKAGES $UID_GID"; sha256sum < "$source";
  cat "$here/nginx-inc.sh" "$here/debian.sh" "$here/cmd/ociarchive/main.go"; } | sha256sum | cut -c1-12)
out=$cache_root/nginx-inc-image/$VERSION-$key
if [ -s "$out/nginx-inc.tar" ] && [ -s "$out/images.env" ]; then
  echo "$out"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "images/nginx-inc.sh: building this image needs root (debootstrap)" >&2; exit 1; }
command -v go >/dev/null || { echo "images/nginx-inc.sh: Go is needed to build the controller" >&2; exit 1; }

# What upstream's build/scripts/common.sh does, for Debian's NGINX.
lay_out() {
  local tree=$1 code=$2
  mkdir -p "$tree/etc/nginx/njs" "$tree/etc/nginx/secrets" "$tree/etc/nginx/stream-conf.d" \
    "$tree/var/lib/nginx" "$tree/var/cache/nginx" "$tree/var/log/nginx"
  cp -a "$code"/internal/configs/njs/* "$tree/etc/nginx/njs/"
  cp -a "$code"/internal/configs/version1/nginx.ingress.tmpl "$code"/internal/configs/version1/nginx.tmpl \
    "$code"/internal/configs/version2/nginx.virtualserver.tmpl "$code"/internal/configs/version2/nginx.transportserver.tmpl \
    "$tree/"
  # The one change to upstream's templates: load the stream module, built into upstream's NGINX.
  sed -i 's|^load_module modules/ngx_http_js_module.so;|load_module modules/ngx_stream_module.so;\n&|' "$tree/nginx.tmpl"
  grep -q '^load_module modules/ngx_stream_module.so;' "$tree/nginx.tmpl" ||
    { echo "nginx.tmpl has no load_module line to put the stream module before" >&2; return 1; }
  rm -rf "$tree"/etc/nginx/conf.d/* "$tree"/etc/nginx/sites-* "$tree"/etc/nginx/modules-enabled "$tree"/var/www
  ln -sf /dev/stdout "$tree/var/log/nginx/access.log"
  ln -sf /dev/stderr "$tree/var/log/nginx/error.log"
  echo "nginx:x:$UID_GID:$UID_GID:nginx:/nonexistent:/usr/sbin/nologin" >> "$tree/etc/passwd"
  echo "nginx:x:$UID_GID:" >> "$tree/etc/group"
  chown -R "$UID_GID:0" "$tree/etc/nginx" "$tree/var/cache/nginx" "$tree/var/lib/nginx" "$tree"/*.tmpl
  chown -h "$UID_GID:0" "$tree/var/log/nginx" "$tree"/var/log/nginx/*
  chmod -R g=u "$tree/etc/nginx" "$tree/var/cache/nginx" "$tree/var/lib/nginx" "$tree"/*.tmpl
  chmod 1777 "$tree/tmp"
}

build() {
  local code=$staging/src/kubernetes-ingress-$VERSION tree=$staging/tree
  mkdir -p "$staging/src" "$tree"
  tar -C "$staging/src" -xzf "$source"
  (cd "$code" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X main.version=$VERSION" \
    -o "$tree/nginx-ingress" ./cmd/nginx-ingress)
  tar -C "$tree" -xf "$(debian_root "$SUITE" "$PACKAGES")"
  lay_out "$tree" "$code"
  rm -rf "$staging/src"
  pack_image "$tree" "$staging/nginx-inc.tar" -name "$NGINX_INC_IMAGE" -entrypoint /nginx-ingress \
    -user "$UID_GID" -env PATH=/usr/sbin:/usr/bin:/bin
}

mkdir -p "$cache_root/nginx-inc-image"
staging=$(mktemp -d "$cache_root/nginx-inc-image/.build.XXXXXX")
trap 'unmount_under "$staging"; rm -rf "$staging"' EXIT
. "$here/debian.sh"
. "$here/../build_step.sh"
build_step "$cache_root/logs/nginx-inc-image.log" "the F5 NGINX Ingress Controller $VERSION image (nginx-inc)" \
  "4 to 5 minutes" build
printf 'NGINX_INC_IMAGE=%s\n' "$NGINX_INC_IMAGE" > "$staging/images.env"
rm -rf "$out"
mv "$staging" "$out"
trap - EXIT
echo "$out"
