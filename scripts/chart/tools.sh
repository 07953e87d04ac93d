#!/usr/bin/env bash
# Builds helm and crane (scripts/chart/tools: the versions its go.mod pins) through the Go module
# proxy, cached outside the checkout, keyed by that module's go.sum. Prints the directory holding them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v go >/dev/null || { echo "chart/tools.sh: Go is needed to build helm and crane" >&2; exit 1; }
key=$(cat "$here/tools/go.mod" "$here/tools/go.sum" | sha256sum | cut -c1-12)
cache_root=${KUBE_CONSOLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-console}
out=$cache_root/chart-tools/$key
if [ ! -x "$out/helm" ] || [ ! -x "$out/crane" ]; then
  mkdir -p "$cache_root/chart-tools"
  staging=$(mktemp -d "$cache_root/chart-tools/.build.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  build_tools() {
    cd "$here/tools"
    local helm_version
    helm_version=$(GOFLAGS=-mod=mod go list -m -f '{{.Version}}' helm.sh/helm/v4)
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version" -o "$staging/" \
      helm.sh/helm/v4/cmd/helm github.com/google/go-containerregistry/cmd/crane
  }
  . "$here/../build_step.sh"
  build_step "$cache_root/logs/chart-tools.log" "helm and crane" "1.5 minutes" build_tools
  rm -rf "$out"
  mv "$staging" "$out"
  trap - EXIT
fi
echo "$out"
