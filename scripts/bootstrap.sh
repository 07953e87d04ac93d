#!/usr/bin/env bash
# Installs what the console needs on this machine, only what is missing:
# Debian packages (apt-get), the Python virtualenv with the pinned packages, the local
# control plane's binaries and, as root, the node's runtime and images (all built through Go,
# cached outside the checkout).
# Usage: scripts/bootstrap.sh [--with-postgres] [--with-browser] [--no-controlplane]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
with_postgres=0 with_browser=0 with_controlplane=1
for arg in "$@"; do
  case $arg in
    --with-postgres) with_postgres=1 ;;
    --with-browser) with_browser=1 ;;
    --no-controlplane) with_controlplane=0 ;;
    *) echo "bootstrap.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages, by the command each provides.
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need redis-server redis-server
need openssl openssl
need curl curl
[ $with_postgres = 0 ] || [ -x "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | tail -1)" ] || missing+=(postgresql)
[ $with_browser = 0 ] || need chromium chromium
# The local node (run as root): kube-proxy's and the pod network's iptables, runc's libseccomp.
with_node=$([ $with_controlplane = 1 ] && [ "$(id -u)" = 0 ] && [ "${KUBE_CONSOLE_NODE:-1}" != 0 ] && echo 1 || echo 0)
if [ $with_node = 1 ]; then
  need iptables iptables
  need conntrack conntrack
  need nsenter util-linux
  need ip iproute2
  [ -e /usr/include/seccomp.h ] || missing+=(libseccomp-dev)
  need debootstrap debootstrap  # the console's image and the chart's bundled PostgreSQL and Redis
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages into .venv, reinstalled only when requirements.txt changes.
venv=$root/.venv
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if [ ! -x "$venv/bin/python" ]; then
  say "Creating the virtualenv in .venv"
  "$python" -m venv "$venv"
fi
stamp=$venv/.requirements.sha256
wanted=$(sha256sum "$root/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  say "Installing Python packages from requirements.txt"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r "$root/requirements.txt"
  echo "$wanted" > "$stamp"
fi

if [ $with_controlplane = 1 ]; then
  "$root/scripts/controlplane/build.sh" >/dev/null
fi
if [ $with_node = 1 ]; then
  "$root/scripts/node/build.sh" >/dev/null
  "$root/scripts/images/build.sh" >/dev/null
  "$root/scripts/images/nginx-inc.sh" >/dev/null
fi
