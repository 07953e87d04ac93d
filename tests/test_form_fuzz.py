"""Hypothesis over the HTML side, as schemathesis covers the API: generated values posted to every
form-handling URL of the URL configuration (the isolation test's table, which a guard keeps equal to
the URL configuration), as a project admin, an operator and a viewer. No answer may be a 5xx; a
refused submission (4xx) writes no row and queues no task; no page writes to the API server. Each
post runs in a savepoint that is rolled back, so every example starts from the same world."""

import re

import pytest
import yaml
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
from tests.test_document_bounds import laughs
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


# Edit YAML: the text is a form field whose shape the form fuzz above cannot reach.

ODD_VALUES = [None, [], {}, "", "x", 7, -1, 300, True, ["a"], {"a": 1}, "/", "//", "Exact", "a b", "x" * 300]
DELETE = object()


def locations(node, at=()):
    """The key path of every value in the parsed documents."""
    yield at
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from locations(value, (*at, key))


def mangled(docs: list, at: tuple, value):
    """A copy of the documents with the value at `at` replaced (or its key removed, for DELETE)."""
    copy = yaml.safe_load(yaml.safe_dump(docs))
    if not at:
        return None if value is DELETE else value
    parent = copy
    for key in at[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[at[-1]]
    else:
        parent[at[-1]] = value
    return copy


@pytest.fixture(params=["ingress", "ingress-routes", "gateway-api"])
def yaml_world(project_with_gateway, gateway_api_crds, request):
    """A route with a plain rule on a named port, a split one and a gRPC rule behind TLS, on a
    gateway whose routes are an Ingress, Traefik IngressRoutes or Gateway API objects."""
    shop = project_with_gateway
    cluster.apply(backend_service(shop.namespace, "front-end"))
    cluster.apply(backend_service(shop.namespace, "catalogue", 8080, "web"))
    if request.param != "ingress":
        request.getfixturevalue("ingress_route_crd")
        route_api = "gateway-api" if request.param == "gateway-api" else "ingress"
        gateway_services.configure_gateway(shop, flavor="traefik", route_api=route_api)
    split = {"weight": 3, "alternate_backends": [{"service": "catalogue", "port": "web", "weight": 1}]}
    paths = [{"path": "/", "service": "catalogue", "port": "web"}]
    if request.param != "ingress":
        paths.append({"path": "/split", "service": "front-end", "port": 80, **split})
    rules = [
        {"host": "shop.example.com", "paths": paths},
        {
            "host": "api.example.com",
            "protocol": "grpc",
            "tls_secret": "good-tls",
            "paths": [{"path": "/echo.Echo/", "service": "front-end", "port": 80}],
        },
    ]
    route_services.create_route(shop, {"name": "front-end", "rules": rules})
    return shop


def post_manifest(client, url: str, text: str, capture):
    """Posts an edited manifest in a savepoint rolled back after: (response, whether a row was
    written, the tasks queued)."""
    with transaction.atomic():
        before = fingerprint()
        with capture() as queued:
            response = client.post(url, {"manifest": text, "generation": 1}, **HTMX)
        written = fingerprint() != before
        transaction.set_rollback(True)
    return response, written, queued


def test_edit_yaml_answers_mangled_manifests_with_a_refusal_and_writes_nothing_then(
    yaml_world, cluster_calls, django_capture_on_commit_callbacks
):
    client = browser_as(get_user_model().objects.get(username="olga"))
    url = f"/projects/{yaml_world.name}/routes/front-end/edit-yaml/"
    opened = client.get(url, **HTMX)
    docs = list(yaml.safe_load_all(opened.context["form"].initial["manifest"]))
    places = list(locations(docs))
    wrong, answers = [], set()

    @settings(
        max_examples=120,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(at=st.sampled_from(places), value=st.sampled_from([DELETE, *ODD_VALUES]))
    def post(at, value):
        edited = mangled(docs, at, value)
        text = yaml.safe_dump_all(edited) if isinstance(edited, list) else yaml.safe_dump(edited)
        response, written, queued = post_manifest(client, url, text, django_capture_on_commit_callbacks)
        answers.add(response.status_code)
        if response.status_code >= 500:
            wrong.append(f"{at} = {value!r}: answered {response.status_code}")
        elif response.status_code >= 400 and (written or queued):
            wrong.append(f"{at} = {value!r}: refused with {response.status_code} but wrote a row or queued a task")

    post()
    assert wrong == [], "\n".join(wrong[:20])
    assert 400 in answers  # the mangling reached the mapping's refusals
    assert [call for call in cluster_calls if call[0] != "GET"] == []


def test_edit_yaml_refuses_nested_and_aliased_documents_wherever_they_sit(
    yaml_world, cluster_calls, django_capture_on_commit_callbacks
):
    """Every value of the shown documents replaced by an alias of a billion-laughs nest, or by a
    list nested deeper than any route: a refusal on the manifest, never a 5xx or a write."""
    client = browser_as(get_user_model().objects.get(username="olga"))
    url = f"/projects/{yaml_world.name}/routes/front-end/edit-yaml/"
    docs = list(yaml.safe_load_all(client.get(url, **HTMX).context["form"].initial["manifest"]))
    wrong = []
    for at in [place for place in locations(docs) if place][::3]:
        marked = yaml.safe_dump_all(mangled(docs, at, "MARK"))
        for text in (
            marked.replace("MARK", laughs(8), 1),
            marked.replace("MARK", "[" * 60 + "]" * 60),
        ):
            response, written, queued = post_manifest(client, url, text, django_capture_on_commit_callbacks)
            if response.status_code != 400 or written or queued:
                wrong.append(f"{at}: answered {response.status_code}, wrote {written}, queued {bool(queued)}")
    assert wrong == [], "\n".join(wrong[:20])
    assert [call for call in cluster_calls if call[0] != "GET"] == []
