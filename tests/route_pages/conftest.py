"""The project the route pages are tried on, and a route of it."""

import pytest

from console import cluster
from routes import services as route_services
from tests.conftest import backend_service, tls_secret_manifest


@pytest.fixture
def shop(project_with_gateway):
    namespace = project_with_gateway.namespace
    cluster.apply(backend_service(namespace, "front-end"))
    cluster.apply(backend_service(namespace, "catalogue", 8080, "web"))
    cluster.apply(tls_secret_manifest(namespace, "old-tls", ["secure.example.com"], days=-1))
    return project_with_gateway


@pytest.fixture
def route(shop):
    return route_services.create_route(
        shop,
        {"name": "front-end", "rules": [{"host": "shop.example.com", "paths": [{"service": "front-end", "port": 80}]}]},
    )
