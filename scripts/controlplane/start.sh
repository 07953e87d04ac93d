#!/usr/bin/env bash
# Starts a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager)
# on loopback, keeping its certificates, data, logs and pid files in STATE_DIR, and writes
# STATE_DIR/kubeconfig with a token for an admin identity.
# Usage: start.sh STATE_DIR [API_PORT]   (API_PORT 0 or absent: a free port)
# Running it again while the processes live does nothing; stop.sh STATE_DIR ends them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=${1:?usage: start.sh STATE_DIR [API_PORT]}
mkdir -p "$state"
state=$(cd "$state" && pwd)
api_port=${2:-0}

running() { local pid; pid=$(cat "$state/$1.pid" 2>/dev/null) && [ -d "/proc/$pid" ] && grep -qF "$state" "/proc/$pid/cmdline" 2>/dev/null; }
if running etcd && running kube-apiserver && running kube-controller-manager; then
  echo "$state/kubeconfig"; exit 0
fi
"$here/stop.sh" "$state" >/dev/null

bin=$("$here/build.sh")
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
[ "$api_port" != 0 ] || api_port=$(free_port)
etcd_port=$(free_port); peer_port=$(free_port); kcm_port=$(free_port)

# Certificates: a CA, the API server's serving certificate for loopback, and the
# key pair that signs service-account tokens. Kept across restarts.
pki=$state/pki
if [ ! -f "$pki/apiserver.crt" ]; then
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kube-console-local-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > "$pki/apiserver.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  admin_token=$(openssl rand -hex 24); kcm_token=$(openssl rand -hex 24)
  printf '%s,console-admin,console-admin,"system:masters"\n%s,system:kube-controller-manager,kcm,"system:masters"\n' \
    "$admin_token" "$kcm_token" > "$pki/tokens.csv"
  chmod 600 "$pki"/*.key "$pki/tokens.csv"
fi
token_of() { awk -F, -v u="$1" '$2 == u { print $1 }' "$pki/tokens.csv"; }

write_kubeconfig() { # file user
  cat > "$1" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $2
  user:
    token: $(token_of "$2")
contexts:
- name: local
  context: {cluster: local, user: $2}
current-context: local
KUBECONFIG
  chmod 600 "$1"
}

launch() { # name command...
  local name=$1; shift
  "$@" >"$state/$name.log" 2>&1 &
  echo $! > "$state/$name.pid"
}

wait_for() { # what url [curl args...]
  local what=$1 url=$2; shift 2
  for _ in $(seq 1 240); do
    curl -fsS --max-time 2 "$@" "$url" >/dev/null 2>&1 && return 0
    running "$what" || break
    sleep 0.25
  done
  echo "start.sh: $what did not become ready; its log ends with:" >&2
  tail -20 "$state/$what.log" >&2
  exit 1
}

launch etcd "$bin/etcd" --name local --data-dir "$state/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "local=http://127.0.0.1:$peer_port" --listen-metrics-urls "" \
  --log-level warn --quota-backend-bytes 4294967296
wait_for etcd "http://127.0.0.1:$etcd_port/health"

launch kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" \
  --authorization-mode RBAC --anonymous-auth=false \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 --profiling=false \
  --endpoint-reconciler-type none \
  --cert-dir "$state/apiserver-certs"
wait_for kube-apiserver "https://127.0.0.1:$api_port/readyz" --cacert "$pki/ca.crt" \
  -H "Authorization: Bearer $(token_of console-admin)"

write_kubeconfig "$state/kubeconfig" console-admin
write_kubeconfig "$state/controller-manager.kubeconfig" system:kube-controller-manager
launch kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig "$state/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$state/controller-manager.kubeconfig" --authentication-skip-lookup \
  --bind-address 127.0.0.1 --secure-port "$kcm_port" --cert-dir "$state/kcm-certs" \
  --controllers namespace-controller,garbage-collector-controller,serviceaccount-controller,serviceaccount-token-controller,deployment-controller,replicaset-controller,endpointslice-controller \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
  --use-service-account-credentials=false --leader-elect=false --profiling=false
sleep 0.5
running kube-controller-manager || { echo "start.sh: kube-controller-manager exited:" >&2; tail -20 "$state/kube-controller-manager.log" >&2; exit 1; }

echo "$state/kubeconfig"
