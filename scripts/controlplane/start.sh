#!/usr/bin/env bash
# Starts the local Kubernetes cluster: etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler, keeping certificates, data, logs and pid files in STATE_DIR, and writes
# STATE_DIR/kubeconfig with a token for an admin identity. Run as root, it also starts a node
# (scripts/node/): its own network namespace, containerd, kubelet and kube-proxy, so pods run;
# the API server then listens on the node network's address. Without root, or with
# KUBE_CONSOLE_NODE=0, the control plane runs alone on loopback, as it says.
# Usage: start.sh STATE_DIR [API_PORT]   (API_PORT 0 or absent: the one used before, or a free port)
# Running it again while the processes live does nothing; stop.sh STATE_DIR ends them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=${1:?usage: start.sh STATE_DIR [API_PORT]}
mkdir -p "$state"
state=$(cd "$state" && pwd)
api_port=${2:-0}

with_node=1
if [ "${KUBE_CONSOLE_NODE:-1}" = 0 ]; then
  with_node=0
elif [ "$(id -u)" != 0 ]; then
  with_node=0
  echo "start.sh: not running as root, so the local cluster gets no node: objects are stored, but no pod runs." >&2
fi

running() { local pid; pid=$(cat "$state/$1.pid" 2>/dev/null) && [ -d "/proc/$pid" ] && grep -qF "$state" "/proc/$pid/cmdline" 2>/dev/null; }
node_running() { [ $with_node = 0 ] || { [ -f "$state/node.env" ] && [ -d "/proc/$(cat "$state/node/kubelet.pid" 2>/dev/null || echo none)" ]; }; }
if running etcd && running kube-apiserver && running kube-controller-manager && running kube-scheduler && node_running; then
  echo "$state/kubeconfig"; exit 0
fi
"$here/stop.sh" "$state" >/dev/null

bin=$("$here/build.sh")
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# The API port stays with the state directory: the kubernetes Service in etcd keeps the port it
# was first given, and pods reach the API server through it.
if [ "$api_port" = 0 ]; then
  api_port=$(cat "$state/api.port" 2>/dev/null || free_port)
fi
echo "$api_port" > "$state/api.port"
etcd_port=$(free_port); peer_port=$(free_port); kcm_port=$(free_port); scheduler_port=$(free_port)

address=127.0.0.1
if [ $with_node = 1 ] && ! "$here/../node/network.sh" up "$state"; then
  with_node=0
  echo "start.sh: this machine refuses the node a network namespace of its own (see above), so the local cluster gets no node: objects are stored, but no pod runs." >&2
fi
if [ $with_node = 1 ]; then
  . "$state/node.env"
  address=$HOST_IP  # where pods reach the API server, through the kubernetes Service
fi

# Certificates: a CA, the API server's serving certificate (loopback, the node network's address
# and the kubernetes Service's ClusterIP), a client certificate for reaching kubelets, and the key
# pair that signs service-account tokens. Kept across restarts while the addresses stay the same.
pki=$state/pki
mkdir -p "$pki"
if [ ! -f "$pki/ca.crt" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kube-console-local-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
sign() { # name subject extensions
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$pki/$1.key" -out "$pki/$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$pki/$1.ext"
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
}
sans="subjectAltName=IP:127.0.0.1,IP:$address,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
if [ "$(cat "$pki/apiserver.sans" 2>/dev/null)" != "$sans" ]; then
  sign apiserver "/CN=kube-apiserver" "$sans
extendedKeyUsage=serverAuth"
  echo "$sans" > "$pki/apiserver.sans"
fi
[ -f "$pki/apiserver-kubelet-client.crt" ] || sign apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
# Token identities: the admin the console uses, and each component as Kubernetes names them, so
# that the default RBAC bindings and the Node authorizer apply to them as on any cluster.
NODE_NAME=kube-console-node
identities=(
  'console-admin,console-admin,"system:masters"'
  'system:kube-controller-manager,kcm,"system:masters"'
  'system:kube-scheduler,kube-scheduler'
  "system:node:$NODE_NAME,kubelet,\"system:nodes\""
  'system:kube-proxy,kube-proxy'
)
for identity in "${identities[@]}"; do
  user=${identity%%,*}
  grep -q "^[^,]*,$user," "$pki/tokens.csv" 2>/dev/null || echo "$(openssl rand -hex 24),$identity" >> "$pki/tokens.csv"
done
chmod 600 "$pki"/*.key "$pki/tokens.csv"
token_of() { awk -F, -v u="$1" '$2 == u { print $1 }' "$pki/tokens.csv"; }

write_kubeconfig() { # file user
  cat > "$1" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://$address:$api_port
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

# Without a node nothing needs the kubernetes Service's endpoints; with one, pods do.
reconciler=none
[ $with_node = 0 ] || reconciler=lease
launch kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address "$address" --advertise-address "$address" --secure-port "$api_port" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --anonymous-auth=false \
  --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 --profiling=false \
  --endpoint-reconciler-type "$reconciler" \
  --cert-dir "$state/apiserver-certs"
wait_for kube-apiserver "https://$address:$api_port/readyz" --cacert "$pki/ca.crt" \
  -H "Authorization: Bearer $(token_of console-admin)"

write_kubeconfig "$state/kubeconfig" console-admin
write_kubeconfig "$state/controller-manager.kubeconfig" system:kube-controller-manager
write_kubeconfig "$state/scheduler.kubeconfig" system:kube-scheduler
write_kubeconfig "$state/kubelet.kubeconfig" "system:node:$NODE_NAME"
write_kubeconfig "$state/kube-proxy.kubeconfig" system:kube-proxy
# Namespaces finish deleting, service accounts get tokens, Deployments and ReplicaSets make pods
# and report, EndpointSlices follow pods; with a node, pods also get the cluster's CA
# (kube-root-ca.crt), a lost node's pods are moved off it, finished pods are collected, and what the
# console's chart installs runs: StatefulSets with their volume claims bound, Jobs, disruption budgets.
controllers=namespace-controller,garbage-collector-controller,serviceaccount-controller,serviceaccount-token-controller
controllers+=,deployment-controller,replicaset-controller,endpointslice-controller
[ $with_node = 0 ] || controllers+=,root-ca-certificate-publisher-controller,node-lifecycle-controller,taint-eviction-controller,pod-garbage-collector-controller
[ $with_node = 0 ] || controllers+=,statefulset-controller,job-controller,ttl-after-finished-controller,disruption-controller
[ $with_node = 0 ] || controllers+=,persistentvolume-binder-controller,persistentvolumeclaim-protection-controller,persistentvolume-protection-controller
launch kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig "$state/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$state/controller-manager.kubeconfig" --authentication-skip-lookup \
  --bind-address 127.0.0.1 --secure-port "$kcm_port" --cert-dir "$state/kcm-certs" \
  --controllers "$controllers" \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
  --use-service-account-credentials=false --leader-elect=false --profiling=false \
  --kube-api-qps 200 --kube-api-burst 400
launch kube-scheduler "$bin/kube-scheduler" \
  --kubeconfig "$state/scheduler.kubeconfig" \
  --authentication-kubeconfig "$state/scheduler.kubeconfig" --authorization-kubeconfig "$state/scheduler.kubeconfig" \
  --authentication-skip-lookup --bind-address 127.0.0.1 --secure-port "$scheduler_port" \
  --leader-elect=false --profiling=false
sleep 0.5
for component in kube-controller-manager kube-scheduler; do
  running "$component" || { echo "start.sh: $component exited:" >&2; tail -20 "$state/$component.log" >&2; exit 1; }
done

[ $with_node = 0 ] || "$here/../node/start.sh" "$state"
echo "$state/kubeconfig"
