"""Schemathesis against the console's own OpenAPI schema: generated requests to every operation,
made as a signed-in project admin against real objects (path parameters point at them), must never
answer 5xx, and every documented answer must match the schema. Each request runs in a savepoint
that is rolled back, so a generated DELETE does not leave the next request nothing to work on."""

import json
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from console import cluster
from routes import services as route_services
from tests.conftest import backend_service

pytestmark = pytest.mark.cluster

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def keep_connection():
    """Requests go through the WSGI handler, which closes the database connection after each one;
    the test's transaction lives on that connection, so keep it open (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(project_with_gateway, django_user_model, keep_connection):
    shop = project_with_gateway
    cluster.apply(backend_service(shop.namespace, "front-end"))
    rule = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    route_services.create_route(shop, {"name": "front-end", "rules": [rule]})
    alice = django_user_model.objects.get(username="alice")
    token, _ = Token.objects.get_or_create(user=alice)
    return {
        "headers": {"Authorization": f"Token {token.key}"},
        "path": {"name": shop.name, "workspace": shop.workspace.name, "route": "front-end", "username": "olga"},
        "workspace_paths": {"name": shop.workspace.name},
    }


@schema.exclude(path="/api/v1/auth/token/").parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples every run, so a red CI run is always reproducible
    # data_too_large: how many generated bodies hypothesis found too big varies between runs; the
    # requests it does make are the test.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_no_operation_fails_or_breaks_its_schema(case, world):
    if case.path_parameters:
        known = world["workspace_paths"] if case.path.startswith("/api/v1/workspaces/{name}") else world["path"]
        case.path_parameters = {key: known.get(key, value) for key, value in case.path_parameters.items()}
    with transaction.atomic():
        case.call_and_validate(headers=world["headers"], checks=CHECKS)
        transaction.set_rollback(True)


NESTED = "[" * 100_000 + "]" * 100_000


FIELDS = ["name", "rules", "annotations", "labels", "routes", "username", "role", "replicas", "config"]


def test_every_body_nested_too_deep_is_refused_with_a_reason(world, django_capture_on_commit_callbacks):
    """Every operation that takes a body, given a document nested past the bound (at the top, and
    in each field it reads): 400 with the reason, never a 5xx, and nothing written."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=world["headers"]["Authorization"])
    deep_fields = json.dumps({field: json.loads("[" * 40 + "]" * 40) for field in FIELDS})
    wrong, reasons = [], 0
    for path, methods in SchemaGenerator().get_schema(request=None, public=True)["paths"].items():
        for method in {"post", "put", "patch"} & set(methods):
            known = world["workspace_paths"] if path.startswith("/api/v1/workspaces/{name}") else world["path"]
            url = path.format(**{key: known.get(key, "x") for key in re.findall(r"{(\w+)}", path)})
            for body in (NESTED, deep_fields):
                with transaction.atomic(), django_capture_on_commit_callbacks() as queued:
                    response = client.generic(method.upper(), url, body, content_type="application/json")
                    transaction.set_rollback(True)
                refused = response.status_code == 400 and "nests too deeply" in response.content.decode()
                # 403 and 405: the caller may not do this at all, and the body is never read.
                if not (refused or response.status_code in (403, 405)) or queued:
                    wrong.append(f"{method.upper()} {url}: {response.status_code} {response.content[:120]!r}")
                reasons += refused
    assert wrong == [], "\n".join(wrong)
    assert reasons >= 15  # the bodies reached the parser of most of the 18 operations alice may call
