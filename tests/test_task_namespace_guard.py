"""A reconcile task touches only the namespace of the object it was handed: a manifest for any
other namespace (a renderer bug, a tampered row) is refused, nothing is applied, and the object
shows why."""

import pytest

from console import cluster
from console.conditions import condition
from console.reconcile import check_namespace
from routes import render as route_render
from routes import services as route_services
from routes.models import Route
from routes.reconcile import reconcile_route
from tenants.models import Project

pytestmark = pytest.mark.cluster

INGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress"}


def test_check_namespace_refuses_namespaced_objects_elsewhere():
    check_namespace([{**INGRESS, "metadata": {"name": "a", "namespace": "shop"}}], "shop")
    check_namespace([{"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "c"}}], "shop")
    with pytest.raises(PermissionError, match="in bank: this object may only touch namespace shop"):
        check_namespace([{**INGRESS, "metadata": {"name": "a", "namespace": "bank"}}], "shop")
    with pytest.raises(PermissionError):
        check_namespace([{**INGRESS, "metadata": {"name": "a"}}], "shop")


def test_a_route_task_rendering_into_another_namespace_applies_nothing(project_with_gateway, monkeypatch):
    shop = project_with_gateway
    # No worker runs here: mark the namespace (created by the fixture) ready, as the worker would.
    Project.record_status(shop.pk, [condition("Ready", True, "Ready", "Namespace is ready.")], observed_generation=1)
    victim = f"{shop.name}-victim"
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": victim}})
    rule = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    route = route_services.create_route(shop, {"name": "front-end", "rules": [rule]})
    real_manifests = route_render.manifests

    def elsewhere(*args, **kwargs):
        manifests = real_manifests(*args, **kwargs)
        manifests[0]["metadata"]["namespace"] = victim
        return manifests

    monkeypatch.setattr(route_render, "manifests", elsewhere)
    try:
        assert reconcile_route.apply(args=[route.pk]).get() == "refused"
        assert cluster.get("networking.k8s.io/v1", "Ingress", "front-end", victim) is None
        assert cluster.get("networking.k8s.io/v1", "Ingress", "front-end", shop.namespace) is None
        route = Route.objects.get(pk=route.pk)
        assert route.condition("Synced")["reason"] == "OutsideNamespace"
        assert victim in route.condition("Synced")["message"]
    finally:
        cluster.delete("v1", "Namespace", victim)
