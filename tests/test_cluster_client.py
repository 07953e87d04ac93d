"""The cluster client: server-side apply, ownership-scoped deletion and typed errors,
against the real local API server."""

import json
import os
import subprocess
import uuid

import pytest
from django.conf import settings

from console import cluster
from tests.conftest import ROOT

pytestmark = pytest.mark.cluster


@pytest.fixture
def namespace(control_plane):
    name = f"client-{uuid.uuid4().hex[:8]}"
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    cluster.delete("v1", "Namespace", name)


def config_map(namespace, name, data, owner=None):
    labels = cluster.ownership_labels(owner) if owner else {}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": data,
    }


def test_apply_creates_then_updates_in_place_under_the_consoles_field_manager(namespace):
    created = cluster.apply(config_map(namespace, "settings", {"a": "1", "b": "2"}))
    updated = cluster.apply(config_map(namespace, "settings", {"a": "3"}))

    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    # Server-side apply removes the field this manager no longer sets.
    assert updated["data"] == {"a": "3"}
    managers = {entry["manager"] for entry in updated["metadata"]["managedFields"]}
    assert managers == {"kube-console"}


def test_delete_unwanted_removes_only_owned_objects_that_are_no_longer_wanted(namespace):
    keep = config_map(namespace, "keep", {}, owner="gateway-1")
    stale = config_map(namespace, "stale", {}, owner="gateway-1")
    other_owner = config_map(namespace, "other-owner", {}, owner="gateway-2")
    unlabelled = config_map(namespace, "not-ours", {})
    for manifest in (keep, stale, other_owner, unlabelled):
        cluster.apply(manifest)

    deleted = cluster.delete_unwanted("gateway-1", [("v1", "ConfigMap")], [keep], namespace)

    assert deleted == [("v1", "ConfigMap", namespace, "stale")]
    remaining = {item["metadata"]["name"] for item in cluster.list_objects("v1", "ConfigMap", namespace)}
    assert {"keep", "other-owner", "not-ours"} <= remaining
    assert "stale" not in remaining


def test_invalid_object_raises_invalid_with_the_api_servers_words(namespace):
    with pytest.raises(cluster.Invalid) as raised:
        cluster.apply(config_map(namespace, "Bad_Name", {}))
    assert raised.value.status == 422
    assert 'ConfigMap "Bad_Name" is invalid' in raised.value.message
    assert raised.value.retryable is False


def test_missing_objects_read_as_none_and_delete_reports_they_were_gone(namespace):
    assert cluster.get("v1", "ConfigMap", "nothing-here", namespace) is None
    assert cluster.delete("v1", "ConfigMap", "nothing-here", namespace) is False


def test_unreachable_api_server_raises_a_retryable_error(control_plane, tmp_path):
    kubeconfig = control_plane.kubeconfig.read_text()
    closed = tmp_path / "kubeconfig"
    server_line = next(line for line in kubeconfig.splitlines() if "server:" in line)
    closed.write_text(kubeconfig.replace(server_line, "    server: https://127.0.0.1:1"))
    original = settings.CLUSTER_SOURCE
    settings.CLUSTER_SOURCE = ("kubeconfig", str(closed))
    cluster.reset_client()
    try:
        with pytest.raises(cluster.ClusterUnavailable) as raised:
            cluster.get("v1", "Namespace", "default")
        assert raised.value.retryable is True
        assert "unreachable" in raised.value.message
    finally:
        settings.CLUSTER_SOURCE = original
        cluster.reset_client()


def test_paths_are_built_from_the_kind_table():
    ingress = cluster.kind_of("networking.k8s.io/v1", "Ingress")
    assert ingress.path("shop", "front-end") == "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/front-end"
    assert cluster.kind_of("v1", "Namespace").path(name="shop") == "/api/v1/namespaces/shop"
    with pytest.raises(ValueError, match="does not manage"):
        cluster.kind_of("batch/v1", "Job")


def test_scripts_kubectl_is_the_api_servers_version_and_reaches_the_cluster(control_plane):
    """The README's kubectl commands go through scripts/kubectl: the project's build, at the API
    server's version, whatever kubectl the machine has."""
    env = {**os.environ, "KUBECONFIG": str(control_plane.kubeconfig)}
    answer = subprocess.run(
        [ROOT / "scripts/kubectl", "version", "-o", "json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert answer.returncode == 0, answer.stderr
    versions = json.loads(answer.stdout)
    assert versions["clientVersion"]["gitVersion"] == versions["serverVersion"]["gitVersion"]
    missing = subprocess.run(
        [ROOT / "scripts/kubectl", "get", "ns"],
        capture_output=True,
        text=True,
        env={**env, "KUBECONFIG": "", "CONSOLE_LOCAL_CLUSTER_DIR": "/nonexistent"},
        timeout=120,
    )
    assert missing.returncode == 1 and "no local cluster is running" in missing.stderr
