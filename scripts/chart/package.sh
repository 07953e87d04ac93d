#!/usr/bin/env bash
# Packages the chart (scripts/chart/kube-console) as a .tgz for `helm install`, carrying in files/crds/
# the CustomResourceDefinitions gateways use, which the chart installs when crds.install is true:
# Traefik's, from the Traefik module the traefik flavor pins (scripts/images/traefik/go.mod), and the
# Gateway API's standard channel at the version that Traefik implements (gateway-api-crds.sh). Go
# fetches the modules through its proxy or finds them in its module cache. Cached outside the
# checkout, keyed by the chart's files and those versions. Prints the archive's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
images=$here/../images
command -v go >/dev/null || { echo "chart/package.sh: Go is needed to fetch the CRDs' modules" >&2; exit 1; }
helm=$("$here/tools.sh")/helm
cache_root=${KUBE_CONSOLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-console}
log=$cache_root/logs/chart-package.log
mkdir -p "$(dirname "$log")"

traefik=$(grep -oE 'github.com/traefik/traefik/v3 v[0-9.]+' "$images/traefik/go.mod" | head -1 | cut -d' ' -f2)
gateway_api_crds=$("$images/gateway-api-crds.sh")
key=$( (cd "$here" && find kube-console package.sh -type f | sort | xargs cat; echo "$traefik"; cat "$gateway_api_crds") |
  sha256sum | cut -c1-12)
version=$(sed -n 's/^version: *//p' "$here/kube-console/Chart.yaml")
out=$cache_root/chart/$key/kube-console-$version.tgz
if [ ! -s "$out" ]; then
  module=$(cd "$images/traefik" && GOFLAGS=-mod=mod go mod download -json "github.com/traefik/traefik/v3@$traefik" 2>>"$log" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  traefik_crds=$module/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml
  [ -s "$traefik_crds" ] || { echo "chart/package.sh: no CRD definitions in $module (see $log)" >&2; exit 1; }
  staging=$(mktemp -d "$cache_root/.chart.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  cp -r "$here/kube-console" "$staging/"
  mkdir -p "$staging/kube-console/files/crds"
  cp "$traefik_crds" "$staging/kube-console/files/crds/traefik-$traefik.yaml"
  cp "$gateway_api_crds" "$staging/kube-console/files/crds/gateway-api-$(basename "$(dirname "$gateway_api_crds")").yaml"
  mkdir -p "$(dirname "$out")"
  "$helm" package "$staging/kube-console" --destination "$staging" >/dev/null
  mv "$staging/kube-console-$version.tgz" "$out"
fi
echo "$out"
