#!/usr/bin/env bash
# Starts the local cluster's node in the network namespace network.sh made: containerd (with runc
# and the CNI bridge), the images built here imported into it, kubelet and kube-proxy. Called by
# scripts/controlplane/start.sh once the API server answers; everything it keeps (containerd's
# root, kubelet's, pod logs, configuration) lives in STATE_DIR/node, and its pods' cgroups under a
# root of its own. Needs root. Waits until the node is Ready.
# Usage: start.sh STATE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=$(cd "${1:?usage: start.sh STATE_DIR}" && pwd)
. "$state/node.env"
node=$state/node
pki=$state/pki
NODE_NAME=kube-console-node
POD_CIDR=10.244.0.0/24

started=$(date +%s%N)
bin=$("$here/../controlplane/build.sh")
runtime=$("$here/build.sh")
images=$("$here/../images/build.sh")
nginx_inc=$("$here/../images/nginx-inc.sh")  # empty when the controller's source is not at hand
gateway_api_crds=$("$here/../images/gateway-api-crds.sh")
. "$images/images.env"
mkdir -p "$node"/{containerd,cni,cni-ipam,registry/_default,kubelet,pod-logs,runc}
running() { local pid; pid=$(cat "$node/$1.pid" 2>/dev/null) && [ -d "/proc/$pid" ]; }
launch() { # name command...: runs in the node's network namespace; the pid file names the command itself
  local name=$1; shift
  (PATH="$runtime:$PATH" exec nsenter --net="/run/netns/$NODE_NETNS" "$@") >"$node/$name.log" 2>&1 &
  echo $! > "$node/$name.pid"
}
fail() { echo "node/start.sh: $1; the end of its log:" >&2; tail -25 "$node/$2.log" >&2; exit 1; }

# Pods' cgroups live under a root of this node's own, in every v1 hierarchy (and v2 if mounted alone).
cgroup_root=/kube-console-$NODE_ID
for hierarchy in /sys/fs/cgroup/*/; do
  case $hierarchy in */unified/) continue ;; esac
  mkdir -p "$hierarchy${cgroup_root#/}"
done
if [ -d /sys/fs/cgroup/cpuset/ ]; then  # a new cpuset takes no task until it has CPUs and memory nodes
  cat /sys/fs/cgroup/cpuset/cpuset.cpus > "/sys/fs/cgroup/cpuset$cgroup_root/cpuset.cpus"
  cat /sys/fs/cgroup/cpuset/cpuset.mems > "/sys/fs/cgroup/cpuset$cgroup_root/cpuset.mems"
fi

# containerd: no registry is reachable, so every registry resolves to an address where nothing
# listens (no DNS look-up, nothing leaves the machine); the sandbox image is ours.
cat > "$node/registry/_default/hosts.toml" <<TOML
server = "http://127.0.0.1:1"
TOML
cat > "$node/containerd.toml" <<TOML
version = 3
root = '$node/containerd/root'
state = '$node/containerd/state'
[grpc]
  address = '$node/containerd.sock'
[ttrpc]
  address = '$node/containerd-ttrpc.sock'
[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '$PAUSE_IMAGE'
    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = '$node/registry'
  [plugins.'io.containerd.cri.v1.runtime']
    # This machine lacks CAP_SYS_RESOURCE: runc may not lower a process's OOM score adjustment.
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      disable_pause_image_pull = true
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = '$runtime/runc'
        Root = '$node/runc'
        SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['$runtime']
      conf_dir = '$node/cni'
  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'
  [plugins.'io.containerd.internal.v1.opt']
    path = '$node/opt'
  [plugins.'io.containerd.nri.v1.nri']
    disable = true
TOML
cat > "$node/cni/10-kube-console.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "kube-console",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "dataDir": "$node/cni-ipam",
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON

if ! running containerd; then
  # containerd's shims keep their sockets in /run/containerd/s whatever the configuration says;
  # stop.sh removes ours, and the directory too when this node made it.
  [ -d /run/containerd ] || [ -f "$node/made-run-containerd" ] || touch "$node/made-run-containerd"
  launch containerd "$runtime/containerd" --config "$node/containerd.toml"
  for _ in $(seq 1 100); do
    [ -S "$node/containerd.sock" ] && "$runtime/ctr" --address "$node/containerd.sock" version >/dev/null 2>&1 && break
    running containerd || fail "containerd exited" containerd
    sleep 0.1
  done
fi
ctr() { "$runtime/ctr" --address "$node/containerd.sock" -n k8s.io "$@"; }
for archive in "$images"/*.tar ${nginx_inc:+"$nginx_inc"/*.tar}; do
  # ctr warns on every call that cgroup v1 is deprecated; say what it says only when it fails.
  if ! said=$(ctr images import "$archive" 2>&1 >/dev/null); then
    echo "$said" >&2; exit 1
  fi
done
cat "$images/images.env" ${nginx_inc:+"$nginx_inc/images.env"} > "$node/images.env"  # for the demo data and tests

# kubelet: cgroup v1 with cgroupfs, swap allowed, pods given a resolv.conf that names no server
# (no cluster DNS is needed, and the machine's must not be asked), images never pulled.
printf 'options ndots:1\n' > "$node/resolv.conf"
cat > "$node/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
cgroupRoot: $cgroup_root
containerRuntimeEndpoint: unix://$node/containerd.sock
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: AlwaysAllow}
resolvConf: $node/resolv.conf
clusterDomain: cluster.local
podLogsDir: $node/pod-logs
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
YAML
# kubelet changes machine-wide sysctls; the last node to stop puts back what was there before the first.
"$here/sysctls.sh" hold "$state"
running kubelet || launch kubelet "$bin/kubelet" --config "$node/kubelet.yaml" \
  --kubeconfig "$state/kubelet.kubeconfig" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
  --root-dir "$node/kubelet" --cert-dir "$node/kubelet/pki" --v 1
running kube-proxy || launch kube-proxy "$bin/kube-proxy" --kubeconfig "$state/kube-proxy.kubeconfig" \
  --hostname-override "$NODE_NAME" --bind-address "$NODE_IP" --cluster-cidr "$POD_CIDR" --proxy-mode iptables \
  --conntrack-max-per-core 0 --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 \
  --healthz-bind-address 127.0.0.1:10256 --metrics-bind-address 127.0.0.1:10249 --nodeport-addresses primary

kubectl() { "$bin/kubectl" --kubeconfig "$state/kubeconfig" "$@"; }
# Traefik's CRDs, as a cluster running Traefik has them: routes of Traefik gateways become IngressRoutes.
kubectl apply --server-side --force-conflicts -f "$images/traefik-crds.yaml" >/dev/null
# The Gateway API's standard-channel CRDs, at the version Traefik implements: gateways set to serve
# it get a Gateway, and their routes become HTTPRoutes and GRPCRoutes.
kubectl apply --server-side --force-conflicts -f "$gateway_api_crds" >/dev/null
for _ in $(seq 1 240); do
  ready=$(kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
  if [ "$ready" = True ]; then
    tenths=$(( ($(date +%s%N) - started) / 100000000 ))
    echo "node/start.sh: the node is Ready, $((tenths / 10)).$((tenths % 10)) s after its start" >&2
    exit 0
  fi
  running kubelet || fail "kubelet exited" kubelet
  running kube-proxy || fail "kube-proxy exited" kube-proxy
  sleep 0.25
done
fail "the node did not become Ready in 60 s" kubelet
