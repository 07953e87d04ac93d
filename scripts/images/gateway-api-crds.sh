#!/usr/bin/env bash
# Prints the path of the Gateway API's standard-channel CRDs (GatewayClass, Gateway, HTTPRoute,
# GRPCRoute, ReferenceGrant, BackendTLSPolicy) in one YAML file, taken from the
# sigs.k8s.io/gateway-api module at the version the pinned Traefik module requires (the version its
# Gateway API provider implements). Go fetches the module through its proxy or finds it in the module
# cache; the file is cached outside the checkout, keyed by that version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v go >/dev/null || { echo "gateway-api-crds.sh: Go is needed to fetch the Gateway API module" >&2; exit 1; }

cache_root=${KUBE_CONSOLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-console}
log=$cache_root/logs/gateway-api-crds.log  # Go's module downloads, out of the way
mkdir -p "$(dirname "$log")"
version=$(cd "$here/traefik" && GOFLAGS=-mod=mod go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api 2>"$log") ||
  { cat "$log" >&2; exit 1; }
out=$cache_root/gateway-api/$version/standard-crds.yaml
if [ ! -s "$out" ]; then
  module=$(cd "$here/traefik" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/gateway-api@$version" 2>>"$log" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$module/config/crd/standard" ] || { echo "gateway-api-crds.sh: no standard CRDs in $module" >&2; exit 1; }
  mkdir -p "$(dirname "$out")"
  for file in "$module"/config/crd/standard/*.yaml; do
    echo "---"
    cat "$file"
  done > "$out.tmp"
  mv "$out.tmp" "$out"
fi
echo "$out"
