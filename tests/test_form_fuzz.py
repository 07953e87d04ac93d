"""Hypothesis over the HTML side, as schemathesis covers the API: generated values posted to every
form-handling URL of the URL configuration (the isolation test's table, which a guard keeps equal to
the URL configuration), as a project admin, an operator and a viewer. No answer may be a 5xx; a
refused submission (4xx) writes no row and queues no task; no page writes to the API server. Each
post runs in a savepoint that is rolled back, so every example starts from the same world."""

import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console import cluster
from gateways import services as gateway_services
from gateways.models import Gateway
from routes import services as route_services
from tests.conftest import backend_service, browser_as
from tests.test_isolation import ENDPOINTS

pytestmark = pytest.mark.cluster

HTMX = {"HTTP_HX_REQUEST": "true"}
# Login and logout change who the client is; the password form is a form like any other.
FORM_URLS = sorted(
    [path for path, methods in ENDPOINTS.items() if "POST" in methods and not path.startswith("/api/")]
    + ["/account/password/"]
)
# Wizard state and editor fields every form gets as well, whether its page shows them or not.
ALWAYS = ["step", "action", "generation", "go", "rule-0-host", "rule-1-path-3-port", "page"]
EDGES = [
    "",
    "0",
    "-1",
    "7",
    "one",
    "99999999999999999999999",
    "٣",
    "¹",
    "next",
    "back",
    "save",
    "create",
    "add-rule",
    "add-path-7",
    "remove-path-0-9",
    "remove-rule-3",
    "refresh",
    "front-end",
    "shop.example.com",
    "admin",
    "operator",
    "viewer",
    "workspace-admin",
    "https",
    "grpc",
    "auto",
    "custom",
    "NodePort",
    "traefik",
    "../../etc",
    "a/b",
    "<script>x</script>",
    "\x00",
    "x" * 300,
]
VALUES = st.one_of(st.sampled_from(EDGES), st.text(max_size=24))
EXAMPLES_PER_URL = 20


def tracked_models():
    models = [model for app in ("tenants", "gateways", "routes") for model in apps.get_app_config(app).get_models()]
    return [*models, get_user_model()]


def fingerprint() -> tuple:
    """Every row the console keeps, as values: equal before and after means nothing was written."""
    return tuple(tuple(model.objects.order_by("pk").values_list()) for model in tracked_models())


@pytest.fixture
def world(project_with_gateway, request):
    """The project with its route; its gateway enabled, disabled, or never there (and no route then)."""
    shop = project_with_gateway
    cluster.apply(backend_service(shop.namespace, "front-end"))
    rule = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    route = route_services.create_route(shop, {"name": "front-end", "rules": [rule]})
    gateway = Gateway.objects.get(project=shop)
    if request.param == "gateway disabled":
        gateway_services.disable_gateway(gateway)
    elif request.param == "no gateway":
        route.delete()
        gateway.delete()
    return shop


def url_of(template: str, shop) -> str:
    values = {"workspace": shop.workspace.name, "route": "front-end", "username": "vera"}
    values["name"] = shop.workspace.name if template.startswith("/workspaces/{name}") else shop.name
    return template.format(**values)


def field_names(client, url: str) -> list[str]:
    """The names of the inputs the page shows (a platform admin sees every form), and ALWAYS."""
    page = client.get(url, **HTMX)
    shown = re.findall(r'name="([^"]+)"', page.content.decode()) if page.status_code == 200 else []
    return sorted({*shown, "role", "name", *ALWAYS} - {"csrfmiddlewaretoken"})


def forms(names: list[str]):
    value = st.one_of(VALUES, st.lists(VALUES, min_size=1, max_size=3))
    return st.fixed_dictionaries({}, optional={name: value for name in names})


def fuzz(client, url: str, names: list[str], capture) -> list[str]:
    """Posts generated forms to `url`; returns what went wrong, one line each."""
    wrong = []

    @settings(
        max_examples=EXAMPLES_PER_URL,
        deadline=None,
        derandomize=True,  # the same examples every run, so a red CI run is reproducible
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(form=forms(names), htmx=st.booleans())
    def post(form, htmx):
        with transaction.atomic():
            before = fingerprint()
            with capture() as queued:
                response = client.post(url, form, **(HTMX if htmx else {}))
            written = fingerprint() != before
            transaction.set_rollback(True)
        status = response.status_code
        if status >= 500:
            wrong.append(f"{url} {form!r}: answered {status}")
        elif status >= 400 and (written or queued):
            wrong.append(f"{url} {form!r}: refused with {status} but wrote a row or queued a task")

    post()
    return wrong


@pytest.mark.parametrize(
    ("username", "world"),
    [
        ("alice", "gateway enabled"),
        ("olga", "gateway enabled"),
        ("vera", "gateway enabled"),
        ("alice", "gateway disabled"),
        ("alice", "no gateway"),
    ],
    indirect=["world"],
)
def test_no_form_answers_5xx_and_a_refused_one_writes_nothing(
    world, username, platform_admin, cluster_calls, django_capture_on_commit_callbacks
):
    root = browser_as(platform_admin)
    client = browser_as(get_user_model().objects.get(username=username))
    wrong = []
    for template in FORM_URLS:
        url = url_of(template, world)
        wrong += fuzz(client, url, field_names(root, url), django_capture_on_commit_callbacks)
    assert wrong == [], "\n".join(wrong[:20])
    assert [call for call in cluster_calls if call[0] != "GET"] == []  # pages never write to the cluster
