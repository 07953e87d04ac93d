#!/usr/bin/env bash
# Builds the images the local node runs, from source, since no registry is reachable: the pod
# sandbox (pause), the demo backend and Traefik (the version the traefik flavor pins), each an OCI
# archive with one layer holding its static binary, for `ctr images import`; and Traefik's CRDs,
# from the same Traefik module. Cached outside the checkout, keyed by the versions and the
# sources, so a rebuild happens only when they change. Prints the directory holding the archives,
# traefik-crds.yaml and images.env (the image names).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

TRAEFIK=$(grep -oE 'github.com/traefik/traefik/v3 v[0-9.]+' traefik/go.mod | head -1 | cut -d' ' -f2)
PAUSE_IMAGE=kube-console.local/pause:1.0
DEMO_BACKEND_IMAGE=kube-console.local/demo-backend:1.0
TRAEFIK_IMAGE=docker.io/library/traefik:$TRAEFIK

key=$(cat build.sh go.mod go.sum traefik/go.mod traefik/go.sum $(find cmd -name '*.go' | sort) | sha256sum | cut -c1-12)
cache_root=${KUBE_CONSOLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-console}
out=$cache_root/images/traefik-$TRAEFIK-$key
archives=(pause.tar demo-backend.tar traefik.tar traefik-crds.yaml)

complete() { for a in "${archives[@]}" images.env; do [ -s "$out/$a" ] || return 1; done; }

if ! complete; then
  command -v go >/dev/null || { echo "images/build.sh: Go is needed to build the node's images" >&2; exit 1; }
  mkdir -p "$cache_root/images"
  staging=$(mktemp -d "$cache_root/images/.build.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  build_images() {
    export CGO_ENABLED=0 GOFLAGS=-mod=mod
    go build -trimpath -ldflags "-s -w" -o "$staging/" ./cmd/pause ./cmd/demo-backend ./cmd/ociarchive
    (cd traefik && go build -trimpath -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK" \
      -o "$staging/traefik" github.com/traefik/traefik/v3/cmd/traefik)
    local traefik_module
    traefik_module=$(cd traefik && go list -m -f '{{.Dir}}' github.com/traefik/traefik/v3)
    cp "$traefik_module/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" "$staging/traefik-crds.yaml"
    pack() { "$staging/ociarchive" -name "$1" -binary "$staging/$2" -entrypoint "/$2" -o "$staging/$2.tar"; }
    pack "$PAUSE_IMAGE" pause
    pack "$DEMO_BACKEND_IMAGE" demo-backend
    pack "$TRAEFIK_IMAGE" traefik
  }
  . "$here/../build_step.sh"
  build_step "$cache_root/logs/images-build.log" "the node's images (pause, demo backend, Traefik $TRAEFIK)" "4 to 5.5 minutes" \
    build_images
  rm -f "$staging/pause" "$staging/demo-backend" "$staging/traefik" "$staging/ociarchive"
  printf 'PAUSE_IMAGE=%s\nDEMO_BACKEND_IMAGE=%s\nTRAEFIK_IMAGE=%s\n' "$PAUSE_IMAGE" "$DEMO_BACKEND_IMAGE" "$TRAEFIK_IMAGE" \
    > "$staging/images.env"
  rm -rf "$out"
  mv "$staging" "$out"
  trap - EXIT
fi
echo "$out"
