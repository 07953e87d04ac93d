"""Two local clusters side by side leave the machine as they found them.

kubelet sets kernel.panic, kernel.panic_on_oops and vm.overcommit_memory machine-wide; the node
scripts save the machine's values once, for the first node up, and put them back when the last one
stops, in either order. The first tests run the script as start.sh and stop.sh run it, each "node"
a state directory whose containerd pid is a live process, with the values kubelet would set set by
the test: both orders. The last starts a real second cluster beside the session's, runs a pod on its
node, stops it, and finds nothing of it left: not its CNI results, mounts or sysctl hold, and the
session cluster's kubelet values still in place."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, wait_for

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "node" / "sysctls.sh"
KEYS = ("kernel.panic", "kernel.panic_on_oops", "vm.overcommit_memory")
KUBELETS = {"kernel.panic": "10", "kernel.panic_on_oops": "1", "vm.overcommit_memory": "1"}


def read() -> dict[str, str]:
    return {key: Path("/proc/sys", *key.split(".")).read_text().strip() for key in KEYS}


def write(values: dict[str, str]) -> None:
    subprocess.run(["sysctl", "-qw", *(f"{key}={value}" for key, value in values.items())], check=True)


@pytest.fixture
def machine(tmp_path):
    """The machine's own values, made different from kubelet's, and put back afterwards."""
    before = read()
    originals = {"kernel.panic": "3", "kernel.panic_on_oops": "0", "vm.overcommit_memory": "0"}
    write(originals)
    yield originals
    write(before)


class Node:
    def __init__(self, root: Path, name: str, registry: Path):
        self.state = root / name
        (self.state / "node").mkdir(parents=True)
        self.env = {"KUBE_CONSOLE_SYSCTLS_DIR": str(registry), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        self.containerd = None

    def start(self) -> None:
        """What start.sh does: containerd runs, the node holds the sysctls, kubelet sets its values."""
        self.containerd = subprocess.Popen(["sleep", "600"])
        (self.state / "node" / "containerd.pid").write_text(f"{self.containerd.pid}\n")
        subprocess.run([str(SCRIPT), "hold", str(self.state)], env=self.env, check=True)
        write(KUBELETS)

    def stop(self) -> None:
        """What stop.sh does: the node's processes end, then it releases the sysctls."""
        self.containerd.kill()
        self.containerd.wait()
        subprocess.run([str(SCRIPT), "release", str(self.state)], env=self.env, check=True)


@pytest.mark.parametrize("first_to_stop", ["first-up", "second-up"])
def test_two_nodes_restore_the_machines_values_once_the_last_stops(machine, tmp_path, first_to_stop):
    registry = tmp_path / "registry"
    one, two = Node(tmp_path, "one", registry), Node(tmp_path, "two", registry)
    one.start()
    two.start()  # the second node up finds kubelet's values: they must not become the "originals"
    order = [one, two] if first_to_stop == "first-up" else [two, one]
    order[0].stop()
    assert read() == KUBELETS  # the other node's kubelet still runs with them
    order[1].stop()
    assert read() == machine
    assert not list((registry / "holders").iterdir())


def test_a_node_killed_without_stop_does_not_keep_the_values_changed_forever(machine, tmp_path):
    registry = tmp_path / "registry"
    killed, other = Node(tmp_path, "killed", registry), Node(tmp_path, "other", registry)
    killed.start()
    killed.containerd.kill()  # killed: stop.sh never ran
    killed.containerd.wait()
    other.start()
    other.stop()
    assert read() == machine


@pytest.fixture
def short_dir():
    """A directory with a short path: containerd's sockets live in the state directory, and a unix
    socket's path has at most 104 bytes (pytest's own, under pytest-xdist, are longer)."""
    path = Path(tempfile.mkdtemp(prefix="kc-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.cluster
def test_a_second_cluster_beside_the_first_stops_without_leaving_anything_or_undoing_the_firsts_sysctls(
    node, control_plane, short_dir
):
    from tenants import demo

    kubelets = read()  # the session cluster's kubelet runs
    state = short_dir / "second"
    state.mkdir()
    started = subprocess.run(
        [ROOT / "scripts/controlplane/start.sh", state], capture_output=True, text=True, timeout=600
    )
    assert started.returncode == 0, started.stderr[-3000:]
    try:
        kubeconfig = started.stdout.strip().splitlines()[-1]
        image = demo.local_images(state)["DEMO_BACKEND_IMAGE"]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "probe", "namespace": "default"},
            "spec": {"containers": [{"name": "demo", "image": image, "imagePullPolicy": "Never"}]},
        }
        kubectl = [str(ROOT / "scripts/kubectl")]
        env = {**os.environ, "KUBECONFIG": kubeconfig}
        subprocess.run(
            [*kubectl, "apply", "-f", "-"], input=json.dumps(pod), text=True, check=True, timeout=60, env=env
        )

        def running():
            phase = subprocess.run(
                [*kubectl, "get", "pod", "probe", "-o", "jsonpath={.status.phase}"],
                capture_output=True,
                text=True,
                env=env,
            )
            return phase.stdout == "Running"

        wait_for(running, timeout=120, what="the second cluster's pod to run")
        assert cni_results_of(state), "the running pod has CNI results (else the check below proves nothing)"
    finally:
        netns = dict(line.split("=", 1) for line in (state / "node.env").read_text().split())["NODE_NETNS"]
        stopped = subprocess.run([ROOT / "scripts/controlplane/stop.sh", state], capture_output=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    assert cni_results_of(state) == []
    assert not [line for line in Path("/proc/mounts").read_text().splitlines() if f" {state}/" in line]
    assert netns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not processes_naming(state)
    time.sleep(0.2)
    assert read() == kubelets  # the session cluster's node still runs: its kubelet's values stay


def processes_naming(state: Path) -> list[str]:
    """Command lines of running processes that name the state directory."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(state) in line:
            found.append(line)
    return found


def cni_results_of(state: Path) -> list[Path]:
    results = Path("/var/lib/cni/results")
    if not results.is_dir():
        return []
    return [path for path in results.iterdir() if f'"netns":"{state}/node/' in path.read_text(errors="replace")]
