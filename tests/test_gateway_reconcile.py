"""Gateways reconciled into the real API server by a real worker: exactly the rendered objects,
changed in place, read back, and removed without touching anything else."""

import pytest
from rest_framework.test import APIClient

from console import cluster
from console.reconcile import resync
from gateways import render, services
from gateways.models import Gateway
from tests.conftest import give_load_balancer_address, wait_for

pytestmark = pytest.mark.cluster

ALL_KINDS = render.NAMESPACED_KINDS + render.CLUSTER_KINDS


def owned_objects(gateway) -> set[tuple[str, str]]:
    selector = f"{cluster.OWNER}={gateway.owner}"
    found = set()
    for api_version, kind in render.NAMESPACED_KINDS:
        found |= {
            (kind, o["metadata"]["name"]) for o in cluster.list_objects(api_version, kind, gateway.namespace, selector)
        }
    for api_version, kind in render.CLUSTER_KINDS:
        found |= {(kind, o["metadata"]["name"]) for o in cluster.list_objects(api_version, kind, selector=selector)}
    return found


def rendered_objects(gateway) -> set[tuple[str, str]]:
    return {(m["kind"], m["metadata"]["name"]) for m in render.manifests(gateway)}


def settled(gateway_pk) -> Gateway:
    """Waits until the worker has reconciled the gateway's current generation."""
    return wait_for(
        lambda: (g := Gateway.objects.select_related("project").get(pk=gateway_pk)).in_sync and g,
        timeout=60,
        what="the gateway to be reconciled",
    )


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_enabling_creates_exactly_the_rendered_objects_and_reads_back_node_ports(
    ready_project, platform_admin, node_address
):
    gateway = settled(services.configure_gateway(ready_project, access_mode="NodePort").pk)

    assert owned_objects(gateway) == rendered_objects(gateway)
    assert len(rendered_objects(gateway)) == 9
    service = cluster.get("v1", "Service", render.NAME, ready_project.namespace)
    allocated = {port["name"]: port["nodePort"] for port in service["spec"]["ports"]}
    assert gateway.node_ports == allocated
    assert all(30000 <= port <= 32767 for port in allocated.values())
    assert gateway.addresses == [node_address]  # the node's InternalIP (loopback without a node)
    ready = gateway.condition("Ready")
    # Not ready, and why depends on the cluster: a node without the nginx-inc image, or no node.
    said = {
        "ControllerNotReady": "0 of 1 ingress controller replicas are ready.",
        "ImageNotAvailable": "The controller's image nginx/nginx-ingress:5.5.4 is not available",
        "ControllerUnschedulable": "No node can run the controller (Unschedulable: ",
    }
    assert ready["status"] == "False" and ready["message"].startswith(said[ready["reason"]]), ready
    assert gateway.condition("Synced")["status"] == "True"
    ingress_class = cluster.get("networking.k8s.io/v1", "IngressClass", gateway.ingress_class)
    assert ingress_class["spec"]["controller"] == "nginx.org/ingress-controller"

    body = api_client(platform_admin).get(f"/api/v1/projects/{ready_project.name}/gateway/").json()
    assert body["status"]["node_ports"] == allocated
    assert body["status"]["ingress_class"] == gateway.ingress_class
    assert body["status"]["addresses"] == [node_address]


def test_access_mode_switches_update_the_service_in_place_and_show_the_load_balancer(
    node_address, ready_project, platform_admin, admin_client
):
    # Traefik: a controller that can start here, so that the load balancer's address is what it waits for.
    gateway = settled(services.configure_gateway(ready_project, access_mode="NodePort", flavor="traefik").pk)
    uid = cluster.get("v1", "Service", render.NAME, ready_project.namespace)["metadata"]["uid"]

    gateway = settled(services.configure_gateway(ready_project, access_mode="LoadBalancer").pk)
    service = cluster.get("v1", "Service", render.NAME, ready_project.namespace)
    assert (service["metadata"]["uid"], service["spec"]["type"]) == (uid, "LoadBalancer")
    assert gateway.condition("Ready")["reason"] == "WaitingForLoadBalancer"
    assert gateway.addresses == []

    give_load_balancer_address(ready_project.namespace, "203.0.113.10")
    resync()
    wait_for(lambda: Gateway.objects.get(pk=gateway.pk).addresses == ["203.0.113.10"], what="the load balancer address")
    page = admin_client.get(f"/projects/{ready_project.name}/gateway/").content.decode()
    assert "203.0.113.10" in page and "LoadBalancer" in page
    api = api_client(platform_admin).get(f"/api/v1/projects/{ready_project.name}/gateway/").json()
    assert api["status"]["addresses"] == ["203.0.113.10"]

    gateway = settled(services.configure_gateway(ready_project, access_mode="NodePort").pk)
    service = cluster.get("v1", "Service", render.NAME, ready_project.namespace)
    assert (service["metadata"]["uid"], service["spec"]["type"]) == (uid, "NodePort")
    assert gateway.addresses == [node_address]


def test_switching_flavor_replaces_its_objects_and_leaves_nothing_behind(ready_project):
    gateway = settled(services.configure_gateway(ready_project, config={"body-size": "8m"}).pk)
    assert cluster.get("v1", "ConfigMap", render.NAME, ready_project.namespace)["data"] == {
        "client-max-body-size": "8m",
        "http2": "true",
    }

    gateway = settled(services.configure_gateway(ready_project, flavor="traefik", config={"read-timeout": "30"}).pk)
    assert owned_objects(gateway) == rendered_objects(gateway)
    ingress_class = cluster.get("networking.k8s.io/v1", "IngressClass", gateway.ingress_class)
    assert ingress_class["spec"]["controller"] == "traefik.io/ingress-controller"
    config = cluster.get("v1", "ConfigMap", render.NAME, ready_project.namespace)["data"]
    assert list(config) == ["traefik.yml"]
    deployment = cluster.get("apps/v1", "Deployment", render.NAME, ready_project.namespace)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].startswith("traefik:")

    gateway = settled(services.configure_gateway(ready_project, flavor="ingress-nginx").pk)
    assert owned_objects(gateway) == rendered_objects(gateway)
    role = cluster.get("rbac.authorization.k8s.io/v1", "ClusterRole", render.cluster_name(gateway))
    assert {"namespaces"} <= {resource for rule in role["rules"] for resource in rule["resources"]}


def test_disabling_removes_exactly_what_the_gateway_created(ready_project, platform_admin):
    namespace = ready_project.namespace
    theirs = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tenant-settings", "namespace": namespace}}
    cluster.apply(theirs)
    gateway = settled(services.configure_gateway(ready_project).pk)
    assert len(owned_objects(gateway)) == 9

    response = api_client(platform_admin).delete(f"/api/v1/projects/{ready_project.name}/gateway/")
    assert response.status_code == 202
    gateway = settled(gateway.pk)

    assert owned_objects(gateway) == set()
    assert cluster.get("v1", "ConfigMap", "tenant-settings", namespace) is not None
    assert cluster.get("v1", "Namespace", namespace)["status"]["phase"] == "Active"
    assert gateway.state == "Disabled"
    body = api_client(platform_admin).get(f"/api/v1/projects/{ready_project.name}/gateway/").json()
    assert body["enabled"] is False and body["status"]["node_ports"] == {}


def test_deleting_the_project_removes_the_gateways_cluster_wide_objects(ready_project):
    from tenants import services as tenant_services

    gateway = settled(services.configure_gateway(ready_project).pk)
    tenant_services.delete_project(ready_project)
    wait_for(
        lambda: cluster.get("v1", "Namespace", ready_project.namespace) is None, timeout=60, what="namespace removal"
    )
    assert cluster.get("networking.k8s.io/v1", "IngressClass", gateway.ingress_class) is None
    assert cluster.get("rbac.authorization.k8s.io/v1", "ClusterRole", render.cluster_name(gateway)) is None
    assert cluster.get("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", render.cluster_name(gateway)) is None
