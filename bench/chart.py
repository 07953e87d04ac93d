#!/usr/bin/env python
"""How long the console's chart takes to install on the local node, and each of its pods from
creation to Ready.

    .venv/bin/python bench/chart.py

Needs root (the local cluster runs a node only then). Starts a local cluster in a temporary state
directory, builds what its cache lacks (the console, PostgreSQL and Redis images, helm, the packaged
chart), imports the images into the node as a registry pull would provide them, gives the cluster a
default StorageClass with hostPath volumes, and times `helm install --wait` of the packaged chart
(NodePort, the bundled PostgreSQL and Redis) to every pod Ready and the migration Job done. Prints
per pod the seconds from its creation to scheduled, to its containers started and to Ready, then
uninstalls and stops the cluster. tests/test_chart.py installs the chart with the same helpers."""

import datetime
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def built(script: str) -> Path:
    """What a build script prints last (a directory or a file), building what its cache lacks."""
    done = subprocess.run([ROOT / script], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def import_images(state: Path) -> dict[str, str]:
    """Builds the console's and the bundled servers' images and imports them into the local node;
    returns their names (image.env and images.env)."""
    console_dir, services_dir = built("scripts/images/console.sh"), built("scripts/images/services.sh")
    archives = [console_dir / "console.tar", services_dir / "postgresql.tar", services_dir / "redis.tar"]
    done = subprocess.run(
        [ROOT / "scripts/node/import.sh", state, *archives], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/node/import.sh failed:\n{done.stderr[-3000:]}")
    return env_file(console_dir / "image.env") | env_file(services_dir / "images.env")


def local_storage(kubectl, state: Path, tag: str, count: int) -> list[str]:
    """A default StorageClass and `count` hostPath PersistentVolumes on the local node (a real
    cluster's provisioner makes these); returns the volumes' names."""
    names = [f"kc-{tag}-{index}" for index in range(count)]
    documents = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "local", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    ]
    for name in names:
        path = state / "volumes" / name
        path.mkdir(parents=True)
        path.chmod(0o777)  # the bundled servers run as their own users; hostPath ignores fsGroup
        documents.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name},
                "spec": {
                    "capacity": {"storage": "2Gi"},
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "local",
                    "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": str(path), "type": "Directory"},
                },
            }
        )
    manifest = state / f"storage-{tag}.yaml"
    manifest.write_text(yaml.safe_dump_all(documents))
    kubectl("apply", "-f", str(manifest))
    return names


def install_values(images: dict[str, str], node_ip: str) -> list[str]:
    """`--set` arguments for the local node: the images built here, NodePort, plain HTTP."""
    tag = lambda image: image.rpartition(":")[2]  # noqa: E731
    values = [
        f"image.tag={tag(images['CONSOLE_IMAGE'])}",
        f"database.bundled.image.tag={tag(images['POSTGRESQL_IMAGE'])}",
        f"database.bundled.uid={images['POSTGRESQL_UID']}",
        f"redis.bundled.image.tag={tag(images['REDIS_IMAGE'])}",
        f"redis.bundled.uid={images['REDIS_UID']}",
        "service.type=NodePort",
        "console.https=false",  # reached over plain HTTP on the node's address
        f"console.allowedHosts={{{node_ip}}}",
        "console.resyncSeconds=10",
    ]
    return [arg for value in values for arg in ("--set", value)]


def seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    parse = datetime.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def pod_times(pod: dict) -> dict:
    """Seconds from the pod's creation to scheduled, to its last container started, and to Ready."""
    created = pod["metadata"]["creationTimestamp"]
    conditions = {c["type"]: c.get("lastTransitionTime") for c in pod["status"].get("conditions", [])}
    started = [
        s["state"]["running"]["startedAt"]
        for s in pod["status"].get("containerStatuses", [])
        if "running" in s["state"]
    ]
    return {
        "scheduled": seconds_between(created, conditions.get("PodScheduled")),
        "started": seconds_between(created, max(started)) if started else None,
        "ready": seconds_between(created, conditions.get("Ready")),
    }


def main() -> int:
    state = Path(tempfile.mkdtemp(prefix="bench-chart-"))
    binaries = built("scripts/controlplane/build.sh")
    helm = built("scripts/chart/tools.sh") / "helm"
    chart = built("scripts/chart/package.sh")
    started = time.monotonic()
    subprocess.run([ROOT / "scripts/controlplane/start.sh", state], check=True, capture_output=True, timeout=300)
    print(f"local cluster with its node: {time.monotonic() - started:.1f} s")
    try:
        kubeconfig = state / "kubeconfig"

        def kubectl(*args: str) -> str:
            return subprocess.run(
                [binaries / "kubectl", "--kubeconfig", kubeconfig, *args], check=True, capture_output=True, text=True
            ).stdout

        node_ip = env_file(state / "node.env")["NODE_IP"]
        images = import_images(state)
        local_storage(kubectl, state, uuid.uuid4().hex[:6], 2)
        helm_env = {"KUBECONFIG": str(kubeconfig), "HOME": str(state), "PATH": "/usr/bin:/bin"}
        began = time.monotonic()
        subprocess.run(
            [helm, "install", "kc", chart, "--namespace", "kube-console", "--create-namespace",
             *install_values(images, node_ip), "--wait", "--timeout", "5m"],
            check=True, capture_output=True, env=helm_env,
        )  # fmt: skip
        print(f"helm install --wait, to every pod Ready and the migrations done: {time.monotonic() - began:.1f} s")
        pods = json.loads(kubectl("-n", "kube-console", "get", "pods", "-o", "json"))["items"]
        print("\n| pod | created to scheduled (s) | to started (s) | to Ready (s) |\n| --- | --- | --- | --- |")
        for pod in sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"]):
            times = pod_times(pod)
            row = [f"{times[key]:.0f}" if times[key] is not None else "-" for key in ("scheduled", "started", "ready")]
            print(f"| {pod['metadata']['name']} | {' | '.join(row)} |")
        return 0
    finally:
        subprocess.run([ROOT / "scripts/controlplane/stop.sh", state], capture_output=True, timeout=300)


if __name__ == "__main__":
    sys.exit(main())
