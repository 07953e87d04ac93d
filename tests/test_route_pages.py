"""The route pages with Django's test client: the list, each wizard step's checks, the detail
page, and every dialog, including Edit YAML round trips."""

import html

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from console import cluster
from gateways import services as gateway_services
from gateways.render import https_listener
from routes import services as route_services
from routes.models import Route, RoutePath, RouteRule
from tests.conftest import PASSWORD, api_as, backend_service, password_login, tls_secret_manifest

pytestmark = pytest.mark.cluster
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def shop(project_with_gateway):
    namespace = project_with_gateway.namespace
    cluster.apply(backend_service(namespace, "front-end"))
    cluster.apply(backend_service(namespace, "catalogue", 8080, "web"))
    cluster.apply(tls_secret_manifest(namespace, "old-tls", ["secure.example.com"], days=-1))
    return project_with_gateway


def logged_in(username) -> Client:
    client = Client()
    assert password_login(client, username, PASSWORD)
    return client


def url(shop, suffix=""):
    return f"/projects/{shop.name}/routes/{suffix}"


def wizard(client, shop, step, action="next", rules=None, **fields):
    data = {"step": step, "action": action, "name": "front-end", "alias": "", "description": ""}
    data.update({"annotations-key": [""], "annotations-value": [""], "labels-key": [""], "labels-value": [""]})
    rule = {"host_mode": "auto", "host": "", "protocol": "http", "tls_secret": ""}
    path = {"path": "/", "path_type": "Prefix", "service": "front-end", "port": "80"}
    for index, (rule_over, paths) in enumerate(rules or [({}, [{}])]):
        for key, value in {**rule, **rule_over}.items():
            data[f"rule-{index}-{key}"] = value
        for j, path_over in enumerate(paths):
            for key, value in {**path, **path_over}.items():
                data[f"rule-{index}-path-{j}-{key}"] = value
    data.update(fields)
    return client.post(url(shop, "new/"), data, **HTMX)


def test_list_shows_create_to_operators_and_a_notice_without_gateway(shop):
    route_services.create_route(
        shop,
        {"name": "front-end", "rules": [{"host": "a.example.com", "paths": [{"service": "front-end", "port": 80}]}]},
    )
    page = logged_in("olga").get(url(shop)).content.decode()
    assert 'data-route="front-end"' in page and f'href="/projects/{shop.name}/routes/new/"' in page
    # The Gateway column names the gateway and links to it, not its IngressClass.
    assert f'<a href="/projects/{shop.name}/gateway/">F5 NGINX' in page and "kubeconsole-" not in page
    assert 'id="create-route"' not in logged_in("vera").get(url(shop)).content.decode()

    found = logged_in("vera").get(url(shop), {"q": "a.example"}, **HTMX).content.decode()
    assert 'data-route="front-end"' in found
    assert 'data-route="front-end"' not in logged_in("vera").get(url(shop), {"q": "nothing"}, **HTMX).content.decode()

    gateway_services.disable_gateway(shop.gateway)
    page = logged_in("olga").get(url(shop)).content.decode()
    assert 'id="no-gateway"' in page and "disabled" in page and 'data-route="front-end"' in page
    assert logged_in("olga").get(url(shop, "new/")).status_code == 302


def test_step_one_checks_the_name(shop):
    olga = logged_in("olga")
    response = wizard(olga, shop, 0, name="Front_End")
    assert response.status_code == 400 and response.context["step"] == 0
    assert "lowercase" in " ".join(response.context["basic"].errors["name"])
    route_services.create_route(
        shop, {"name": "taken", "rules": [{"host": "t.example.com", "paths": [{"service": "front-end", "port": 80}]}]}
    )
    response = wizard(olga, shop, 0, name="taken")
    assert "already exists" in " ".join(response.context["basic"].errors["name"])
    assert wizard(olga, shop, 0).context["step"] == 1


@pytest.mark.parametrize(
    ("rule", "path", "field", "message"),
    [
        ({"host_mode": "custom", "host": "Bad Host"}, {}, "rule-0-host", "spaces"),
        ({"host_mode": "custom", "host": "10.0.0.1"}, {}, "rule-0-host", "IP address"),
        ({}, {"path": "/a//b"}, "rule-0-path-0-path", "'//'"),
        ({}, {"service": "ghost"}, "rule-0-path-0-service", "There is no Service ghost"),
        ({}, {"port": "81"}, "rule-0-path-0-port", "has no port 81"),
        (
            {"host_mode": "custom", "host": "secure.example.com", "protocol": "https"},
            {},
            "rule-0-tls_secret",
            "needs a TLS secret",
        ),
        (
            {"host_mode": "custom", "host": "secure.example.com", "protocol": "https", "tls_secret": "keyless"},
            {},
            "rule-0-tls_secret",
            "no usable TLS secret 'keyless'",
        ),
    ],
)
def test_step_two_checks_each_rule_on_its_field(shop, rule, path, field, message):
    response = wizard(logged_in("olga"), shop, 1, rules=[(rule, [path])])
    assert response.status_code == 400 and response.context["step"] == 1
    shown = [r for r in response.context["rules"]][0]
    errors = {
        **{f"rule-0-{k}": v for k, v in shown["errors"].items()},
        **{f"rule-0-path-0-{k}": v for k, v in shown["paths"][0]["errors"].items()},
    }
    assert message in " ".join(errors[field])
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Route.objects.exists()


def test_rules_editor_adds_and_removes_rules_and_paths_and_previews_hosts(shop):
    olga = logged_in("olga")
    response = wizard(olga, shop, 1, action="add-rule")
    assert len(response.context["rules"]) == 2 and response.context["step"] == 1
    response = wizard(olga, shop, 1, action="add-path-0")
    assert len(response.context["rules"][0]["paths"]) == 2
    response = wizard(olga, shop, 1, action="remove-path-0-1", rules=[({}, [{}, {"path": "/x"}])])
    assert [p["values"]["path"] for p in response.context["rules"][0]["paths"]] == ["/"]
    page = wizard(
        olga, shop, 1, action="refresh", rules=[({}, [{"service": "catalogue", "port": ""}])]
    ).content.decode()
    assert '<option value="8080"' in page and "(web)" in page
    assert f"catalogue.{shop.name}.127.0.0.1.nip.io" not in page  # the gateway has no address until reconciled


def test_secret_picker_lists_certificates_and_warns(shop):
    olga = logged_in("olga")
    rule = {"host_mode": "custom", "host": "other.example.com", "protocol": "https", "tls_secret": "good-tls"}
    page = wizard(olga, shop, 1, action="refresh", rules=[(rule, [{}])]).content.decode()
    assert "good-tls — secure.example.com" in page and "keyless" not in page and "opaque" not in page
    assert "does not cover other.example.com" in page
    rule.update(host="secure.example.com", tls_secret="old-tls")
    page = wizard(olga, shop, 1, action="refresh", rules=[(rule, [{}])]).content.decode()
    assert "The certificate of old-tls expired" in page
    assert "BEGIN" not in page


def test_step_three_prefills_protocol_annotations_and_checks_the_policy(shop):
    olga = logged_in("olga")
    chat = {"host_mode": "custom", "host": "secure.example.com", "protocol": "wss", "tls_secret": "good-tls"}
    response = wizard(olga, shop, 1, rules=[(chat, [{}])])
    assert response.context["step"] == 2
    assert response.context["advanced"].initial["annotations"] == {"nginx.org/websocket-services": "front-end"}
    response = wizard(
        olga,
        shop,
        2,
        action="create",
        rules=[(chat, [{}])],
        **{"annotations-key": ["nginx.org/server-snippets"], "annotations-value": ["x"]},
    )
    assert response.status_code == 400 and response.context["step"] == 2
    assert "never allowed" in " ".join(response.context["advanced"].errors["annotations"])
    assert not Route.objects.exists()


def test_create_lands_on_the_detail_page_and_stores_only_the_users_annotations(shop):
    olga = logged_in("olga")
    chat = {"host_mode": "custom", "host": "secure.example.com", "protocol": "wss", "tls_secret": "good-tls"}
    response = wizard(
        olga,
        shop,
        2,
        action="create",
        rules=[(chat, [{}])],
        alias="Chat",
        **{
            "annotations-key": ["nginx.org/websocket-services", "nginx.org/proxy-read-timeout"],
            "annotations-value": ["front-end", "120s"],
            "labels-key": ["team"],
            "labels-value": ["socks"],
        },
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == url(shop, "front-end/")
    route = Route.objects.get(name="front-end")
    assert (route.alias, route.annotations, route.labels) == (
        "Chat",
        {"nginx.org/proxy-read-timeout": "120s"},
        {"team": "socks"},
    )
    page = olga.get(url(shop, "front-end/")).content.decode()
    assert "secure.example.com" in page and "Click to visit" in page and "Unable to access?" in page
    assert "Waiting for the cluster" in page  # no worker here: the button says why it is disabled


def test_detail_hides_actions_from_viewers(shop):
    route_services.create_route(
        shop,
        {"name": "front-end", "rules": [{"host": "a.example.com", "paths": [{"service": "front-end", "port": 80}]}]},
    )
    assert 'id="route-actions"' in logged_in("olga").get(url(shop, "front-end/")).content.decode()
    page = logged_in("vera").get(url(shop, "front-end/")).content.decode()
    assert 'id="route-actions"' not in page and "a.example.com" in page
    assert logged_in("vera").get(url(shop, "front-end/edit-info/"), **HTMX).status_code == 403
    assert logged_in("vera").post(url(shop, "front-end/delete/"), {"name": "front-end"}).status_code == 403


def test_the_detail_page_shows_the_route_as_gateway_api_objects_on_demand(shop):
    route_services.create_route(
        shop,
        {
            "name": "front-end",
            "rules": [
                {"host": "a.example.com", "paths": [{"service": "catalogue", "port": "web"}]},
                {
                    "host": "api.example.com",
                    "protocol": "grpc",
                    "tls_secret": "good-tls",
                    "paths": [{"service": "greeter", "port": 50051}],
                },
            ],
            "annotations": {"team": "socks"},
        },
    )
    vera = logged_in("vera")
    page = vera.get(url(shop, "front-end/")).content.decode()
    preview_url = url(shop, "front-end/gateway-api/")
    assert f'hx-get="{preview_url}"' in page and 'hx-trigger="toggle once"' in page  # loaded when opened
    shown = vera.get(preview_url, **HTMX).content.decode()
    http_route, grpc_route = yaml.safe_load_all(
        html.unescape(shown.split("<pre", 1)[1].split(">", 1)[1].split("</pre>")[0])
    )
    assert (http_route["kind"], http_route["spec"]["hostnames"]) == ("HTTPRoute", ["a.example.com"])
    assert http_route["spec"]["rules"][0]["backendRefs"][0]["port"] == 8080  # the number of the port named web
    assert grpc_route["kind"] == "GRPCRoute" and grpc_route["metadata"]["annotations"] == {}
    assert logged_in("bob").get(preview_url, **HTMX).status_code == 404  # another workspace's user


def many_routes(shop, prefix: str, count: int) -> None:
    """Stored routes as the worker leaves them (without the cluster), for list sizes."""
    routes = Route.objects.bulk_create(
        Route(project=shop, gateway=shop.gateway, name=f"{prefix}{i:03}", observed_generation=1) for i in range(count)
    )
    rules = RouteRule.objects.bulk_create(RouteRule(route=r, position=0, host=f"{r.name}.example.com") for r in routes)
    RoutePath.objects.bulk_create(RoutePath(rule=r, position=0, service="front-end", port_number=80) for r in rules)


def test_the_list_pages_by_fifty_keeps_the_search_and_its_queries_do_not_grow(shop, django_assert_max_num_queries):
    many_routes(shop, "r", 3)
    client = logged_in("vera")
    with CaptureQueriesContext(connection) as few:
        client.get(url(shop))
    many_routes(shop, "s", 117)

    with django_assert_max_num_queries(len(few)):
        first = client.get(url(shop)).content.decode()
    assert first.count("data-route=") == 50 and "1–50 of 120" in first
    assert 'rel="next" href="?page=2"' in first and 'rel="prev"' not in first
    last = client.get(url(shop), {"page": 3}).content.decode()
    assert last.count("data-route=") == 20 and "101–120 of 120" in last and 'rel="next"' not in last
    assert 'data-route="s116"' in last

    found = client.get(url(shop), {"q": "s0", "page": 2}).content.decode()  # s000 to s099
    assert found.count("data-route=") == 50 and "51–100 of 100" in found
    assert 'rel="prev" href="?page=1&amp;q=s0"' in found and 'data-route="s099"' in found


@pytest.fixture
def route(shop):
    return route_services.create_route(
        shop,
        {"name": "front-end", "rules": [{"host": "shop.example.com", "paths": [{"service": "front-end", "port": 80}]}]},
    )


def test_edit_info_dialog(route, shop):
    olga = logged_in("olga")
    assert "Edit Info" in olga.get(url(shop, "front-end/edit-info/"), **HTMX).content.decode()
    response = olga.post(url(shop, "front-end/edit-info/"), {"alias": "Shop", "description": "socks"}, **HTMX)
    assert response.status_code == 204
    route.refresh_from_db()
    assert (route.alias, route.description, route.generation) == ("Shop", "socks", 1)


def rules_post(paths):
    data = {
        "action": "save",
        "rule-0-host_mode": "custom",
        "rule-0-host": "shop.example.com",
        "rule-0-protocol": "http",
        "rule-0-tls_secret": "",
    }
    for j, (path, service, port) in enumerate(paths):
        data.update(
            {
                f"rule-0-path-{j}-path": path,
                f"rule-0-path-{j}-path_type": "Prefix",
                f"rule-0-path-{j}-service": service,
                f"rule-0-path-{j}-port": port,
            }
        )
    return data


def test_edit_rules_dialog_adds_a_path(route, shop):
    olga = logged_in("olga")
    assert 'value="shop.example.com"' in olga.get(url(shop, "front-end/edit-rules/"), **HTMX).content.decode()
    bad = olga.post(
        url(shop, "front-end/edit-rules/"),
        rules_post([("/", "front-end", "80"), ("/catalogue", "catalogue", "99")]),
        **HTMX,
    )
    assert bad.status_code == 400 and "has no port 99" in bad.content.decode()
    response = olga.post(
        url(shop, "front-end/edit-rules/"),
        rules_post([("/", "front-end", "80"), ("/catalogue", "catalogue", "8080")]),
        **HTMX,
    )
    assert response.status_code == 204
    route.refresh_from_db()
    assert [(p.path, p.service, p.port) for p in route.rules.get().paths.all()] == [
        ("/", "front-end", 80),
        ("/catalogue", "catalogue", 8080),
    ]
    assert route.generation == 2


def test_edit_annotations_dialog(route, shop):
    olga = logged_in("olga")
    bad = olga.post(
        url(shop, "front-end/edit-annotations/"),
        {"annotations-key": ["nginx.org/rewrites"], "annotations-value": ["x"]},
        **HTMX,
    )
    assert bad.status_code == 400 and "never allowed" in bad.content.decode()
    ok = olga.post(
        url(shop, "front-end/edit-annotations/"),
        {"annotations-key": ["nginx.org/proxy-read-timeout"], "annotations-value": ["90s"]},
        **HTMX,
    )
    assert ok.status_code == 204
    route.refresh_from_db()
    assert route.annotations == {"nginx.org/proxy-read-timeout": "90s"}


def test_edit_yaml_round_trips(route, shop):
    olga = logged_in("olga")
    shown = olga.get(url(shop, "front-end/edit-yaml/"), **HTMX).context["form"].initial["manifest"]
    manifest = yaml.safe_load(shown)
    assert manifest["spec"]["ingressClassName"] == f"kubeconsole-{shop.name}"

    assert olga.post(url(shop, "front-end/edit-yaml/"), {"manifest": shown}, **HTMX).status_code == 204
    route.refresh_from_db()
    assert route.generation == 1  # unchanged YAML changes nothing

    manifest["spec"]["rules"][0]["http"]["paths"].append(
        {
            "path": "/catalogue",
            "pathType": "Prefix",
            "backend": {"service": {"name": "catalogue", "port": {"number": 8080}}},
        }
    )
    assert (
        olga.post(url(shop, "front-end/edit-yaml/"), {"manifest": yaml.safe_dump(manifest)}, **HTMX).status_code == 204
    )
    route.refresh_from_db()
    assert route.generation == 2
    assert [p.path for p in route.rules.get().paths.all()] == ["/", "/catalogue"]

    manifest["spec"]["defaultBackend"] = {"service": {"name": "front-end", "port": {"number": 80}}}
    response = olga.post(url(shop, "front-end/edit-yaml/"), {"manifest": yaml.safe_dump(manifest)}, **HTMX)
    assert response.status_code == 400
    assert "spec.defaultBackend: the console cannot represent this field" in " ".join(
        response.context["form"].errors["manifest"]
    )
    del manifest["spec"]["defaultBackend"]
    manifest["metadata"]["name"] = "renamed"
    response = olga.post(url(shop, "front-end/edit-yaml/"), {"manifest": yaml.safe_dump(manifest)}, **HTMX)
    assert "cannot be changed" in " ".join(response.context["form"].errors["manifest"])
    manifest["metadata"]["name"] = "front-end"
    manifest["spec"]["rules"][0]["http"]["paths"][0]["path"] = "/a//b"
    response = olga.post(url(shop, "front-end/edit-yaml/"), {"manifest": yaml.safe_dump(manifest)}, **HTMX)
    assert "'//'" in " ".join(response.context["form"].errors["manifest"])
    route.refresh_from_db()
    assert route.generation == 2


def test_delete_asks_for_the_name(route, shop):
    olga = logged_in("olga")
    wrong = olga.post(url(shop, "front-end/delete/"), {"name": "front"}, **HTMX)
    assert wrong.status_code == 400 and not Route.objects.get(pk=route.pk).deletion_requested
    response = olga.post(url(shop, "front-end/delete/"), {"name": "front-end"}, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == url(shop)
    assert Route.objects.get(pk=route.pk).deletion_requested


@pytest.mark.parametrize(
    ("step", "action", "message"),
    [
        ("one", "next", "Enter a whole number"),
        ("7", "next", "no step 8"),
        ("-1", "next", "greater than or equal to 0"),
        ("1", "add-path-7", "no rule 8"),
        ("1", "remove-path-0-3", "has no path 4"),
        ("1", "remove-rule-x", "not something this form can do"),
        ("1", "drop-table", "not something this form can do"),
        ("1", "add-path-٣", "not something this form can do"),
    ],
)
def test_a_crafted_wizard_state_re_shows_the_step_with_an_error(
    shop, django_capture_on_commit_callbacks, step, action, message
):
    with django_capture_on_commit_callbacks() as queued:
        response = wizard(logged_in("olga"), shop, step, action)
    assert response.status_code == 400
    assert message in " ".join(response.context["problems"])
    assert 'role="alert"' in response.content.decode()
    assert queued == [] and not Route.objects.exists()


def test_a_crafted_editor_action_in_the_edit_rules_dialog_is_refused(route, shop):
    data = {**rules_post([("/", "front-end", "80")]), "action": "remove-path-0-5"}
    response = logged_in("olga").post(url(shop, "front-end/edit-rules/"), data, **HTMX)
    assert response.status_code == 400 and "has no path 6" in response.content.decode()
    assert Route.objects.get(pk=route.pk).generation == 1


def two_tls_rules():
    """A gRPC rule and an https rule, both behind TLS, on different hosts."""
    grpc = {"path": "/", "service": "greeter", "port": 50051}
    web = {"path": "/", "service": "front-end", "port": 80}
    return [
        {"host": "api.example.com", "protocol": "grpc", "tls_secret": "good-tls", "paths": [grpc]},
        {"host": "shop.example.com", "protocol": "https", "tls_secret": "good-tls", "paths": [web]},
    ]


def edit_yaml(client, shop, change):
    """Opens Edit YAML on front-end, lets `change` edit the documents, saves; returns the answer."""
    opened = client.get(url(shop, "front-end/edit-yaml/"), **HTMX)
    docs = list(yaml.safe_load_all(opened.context["form"].initial["manifest"]))
    change(docs)
    data = {"manifest": yaml.safe_dump_all(docs), "generation": opened.context["generation"]}
    return client.post(url(shop, "front-end/edit-yaml/"), data, **HTMX)


def protocols(route) -> dict[str, str]:
    return {rule.host: rule.protocol for rule in Route.objects.get(pk=route.pk).rules.all()}


def test_edit_yaml_keeps_each_rules_protocol_when_rules_swap_places(shop):
    route = route_services.create_route(shop, {"name": "front-end", "rules": two_tls_rules()})

    def swap(docs):
        rules = docs[0]["spec"]["rules"]
        rules[0], rules[1] = rules[1], rules[0]

    response = edit_yaml(logged_in("olga"), shop, swap)
    assert response.status_code == 204, response.content.decode()
    assert protocols(route) == {"api.example.com": "grpc", "shop.example.com": "https"}
    route.refresh_from_db()
    assert route.annotations == {}  # nginx.org/grpc-services still follows the rules, not stored


def test_edit_yaml_on_ingress_nginx_does_not_turn_a_moved_grpc_rule_into_a_route_wide_annotation(shop):
    gateway_services.configure_gateway(shop, flavor="ingress-nginx")
    grpc = {"path": "/", "service": "greeter", "port": 50051}
    rules = [
        {"host": "api.example.com", "protocol": "grpc", "tls_secret": "good-tls", "paths": [grpc]},
        {"host": "api2.example.com", "protocol": "grpc", "tls_secret": "good-tls", "paths": [grpc]},
    ]
    route = route_services.create_route(shop, {"name": "front-end", "rules": rules})

    def swap_and_rename(docs):
        rules = docs[0]["spec"]["rules"]
        rules[0], rules[1] = rules[1], rules[0]
        rules[0]["host"] = "api3.example.com"  # a new host: gRPC, as the Ingress's backend-protocol says
        docs[0]["spec"]["tls"][0]["hosts"] = ["api3.example.com", "api.example.com"]

    assert edit_yaml(logged_in("olga"), shop, swap_and_rename).status_code == 204
    assert protocols(route) == {"api3.example.com": "grpc", "api.example.com": "grpc"}
    route.refresh_from_db()
    assert route.annotations == {}


def test_edit_yaml_gives_a_new_host_the_protocol_its_manifest_marks(shop):
    route = route_services.create_route(shop, {"name": "front-end", "rules": two_tls_rules()})

    def rename(docs):
        docs[0]["spec"]["rules"][0]["host"] = "rpc.example.com"
        docs[0]["spec"]["tls"][0]["hosts"] = ["rpc.example.com", "shop.example.com"]

    assert edit_yaml(logged_in("olga"), shop, rename).status_code == 204
    assert protocols(route) == {"rpc.example.com": "grpc", "shop.example.com": "https"}


def test_edit_yaml_refuses_a_rule_whose_protocol_it_cannot_tell(shop):
    rules = [
        {"host": "shop.example.com", "protocol": "http", "paths": [{"path": "/a", "service": "front-end", "port": 80}]},
        {"host": "shop.example.com", "protocol": "ws", "paths": [{"path": "/b", "service": "catalogue", "port": 8080}]},
    ]
    route = route_services.create_route(shop, {"name": "front-end", "rules": rules})

    def move_a_path(docs):
        docs[0]["spec"]["rules"][0]["http"]["paths"][0]["path"] = "/c"

    response = edit_yaml(logged_in("olga"), shop, move_a_path)
    assert response.status_code == 400
    message = " ".join(response.context["form"].errors["manifest"])
    assert "spec.rules[0]: host shop.example.com has rules of different protocols (http, ws)" in message
    assert Route.objects.get(pk=route.pk).generation == 1


def test_a_traefik_gateways_edit_yaml_and_manifest_show_the_ingress_routes_the_worker_applies(
    shop, ingress_route_crd, django_user_model
):
    gateway_services.configure_gateway(shop, flavor="traefik")
    plain = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    rules = [plain, *two_tls_rules()[:1]]  # IngressRoutes group them: the TLS one comes second
    annotations = {"traefik.ingress.kubernetes.io/router.priority": "5"}
    route = route_services.create_route(shop, {"name": "front-end", "rules": rules, "annotations": annotations})

    answer = api_as(django_user_model.objects.get(username="olga")).get(
        f"/api/v1/projects/{shop.name}/routes/front-end/manifest/"
    )
    kinds = [(m["kind"], m["metadata"]["name"]) for m in answer.json()["manifests"]]
    assert kinds == [("IngressRoute", "front-end"), ("IngressRoute", "front-end.1")]
    assert [m.get("spec", {}).get("tls") for m in answer.json()["manifests"]] == [None, {"secretName": "good-tls"}]
    olga = logged_in("olga")
    shown = olga.get(url(shop, "front-end/edit-yaml/"), **HTMX)
    assert "Traefik IngressRoutes" in shown.content.decode()
    assert [doc["kind"] for doc in yaml.safe_load_all(shown.context["form"].initial["manifest"])] == [
        "IngressRoute"
    ] * 2

    assert edit_yaml(olga, shop, lambda docs: None).status_code == 204
    assert Route.objects.get(pk=route.pk).generation == 1  # unchanged text changes nothing

    def add_a_path(docs):
        plain = docs[0]["spec"]["routes"]
        plain.append({**plain[0], "match": "Host(`shop.example.com`) && PathPrefix(`/catalogue`)"})
        plain[-1]["services"] = [{"name": "catalogue", "port": 8080}]

    assert edit_yaml(olga, shop, add_a_path).status_code == 204
    route = Route.objects.get(pk=route.pk)
    assert protocols(route) == {"api.example.com": "grpc", "shop.example.com": "http"}
    assert [p.path for p in route.rules.get(host="shop.example.com").paths.all()] == ["/", "/catalogue"]

    def edit_a_derived_field(docs):
        docs[0]["spec"]["routes"][0]["priority"] = 99

    refused = edit_yaml(olga, shop, edit_a_derived_field)
    assert refused.status_code == 400
    assert "document 1: spec.routes[0].priority: the console sets this" in " ".join(
        refused.context["form"].errors["manifest"]
    )

    def through_the_annotation(docs):
        for doc in docs:
            doc["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.priority"] = "99"
            for entry in doc["spec"]["routes"]:
                entry["priority"] = 99

    assert edit_yaml(olga, shop, through_the_annotation).status_code == 204
    assert Route.objects.get(pk=route.pk).annotations == {"traefik.ingress.kubernetes.io/router.priority": "99"}


def test_a_gateway_api_gateways_edit_yaml_shows_and_maps_back_its_httproutes_and_grpcroutes(shop, django_user_model):
    gateway_services.configure_gateway(shop, flavor="traefik", route_api="gateway-api")
    plain = {"host": "shop.example.com", "paths": [{"path": "/", "service": "catalogue", "port": "web"}]}
    grpc = {**two_tls_rules()[0], "paths": [{"path": "/echo.Echo/", "service": "greeter", "port": 50051}]}
    annotations = {"team": "socks"}
    route = route_services.create_route(shop, {"name": "front-end", "rules": [plain, grpc], "annotations": annotations})
    olga = logged_in("olga")
    shown = olga.get(url(shop, "front-end/edit-yaml/"), **HTMX)
    assert "The HTTPRoutes and GRPCRoutes (Gateway API) as the console applies them" in shown.content.decode()
    http_route, grpc_route = yaml.safe_load_all(shown.context["form"].initial["manifest"])
    assert (http_route["kind"], grpc_route["kind"]) == ("HTTPRoute", "GRPCRoute")
    assert http_route["metadata"]["annotations"] == {} and grpc_route["metadata"]["name"] == "front-end.1"
    assert http_route["spec"]["rules"][0]["backendRefs"][0]["port"] == 8080  # what the worker applies
    manifest = api_as(django_user_model.objects.get(username="olga")).get(
        f"/api/v1/projects/{shop.name}/routes/front-end/manifest/"
    )
    assert [m["kind"] for m in manifest.json()["manifests"]] == ["HTTPRoute", "GRPCRoute"]

    assert edit_yaml(olga, shop, lambda docs: None).status_code == 204
    assert Route.objects.get(pk=route.pk).generation == 1  # unchanged text changes nothing: web stays web

    def add_paths(docs):
        docs[0]["spec"]["rules"].append(
            {
                "matches": [{"path": {"type": "Exact", "value": "/basket"}}],
                "backendRefs": [{"name": "front-end", "port": 80}],  # group, kind and weight as defaulted
            }
        )
        docs[1]["spec"]["rules"].append({"matches": [{"method": {"service": "echo.Echo", "method": "Ping"}}]})
        docs[1]["spec"]["rules"][-1]["backendRefs"] = [{"name": "greeter", "port": 50051}]

    assert edit_yaml(olga, shop, add_paths).status_code == 204
    route = Route.objects.get(pk=route.pk)
    assert protocols(route) == {"shop.example.com": "http", "api.example.com": "grpc"}
    web, api = route.rules.all()
    assert [(p.path, p.path_type, p.service, p.port) for p in web.paths.all()] == [
        ("/", "Prefix", "catalogue", "web"),
        ("/basket", "Exact", "front-end", 80),
    ]
    assert [p.path for p in api.paths.all()] == ["/echo.Echo/", "/echo.Echo/Ping"]
    assert api.tls_secret == "good-tls" and route.annotations == annotations  # neither is on the objects

    def secure(docs):
        docs[0]["spec"]["parentRefs"][0]["sectionName"] = docs[1]["spec"]["parentRefs"][0]["sectionName"]

    refusals = [
        (secure, "document 1: spec.parentRefs[0].sectionName: host shop.example.com is served on listener http"),
        (
            lambda docs: docs[0]["spec"]["parentRefs"][0].update(sectionName=https_listener("shop.example.com")),
            "document 1: spec.parentRefs[0].sectionName: host shop.example.com has no TLS secret in this route",
        ),
        (
            lambda docs: docs[1]["spec"]["parentRefs"][0].update(sectionName="http"),
            "document 2: spec.parentRefs[0].sectionName: gRPC is served over TLS",
        ),
        (
            lambda docs: docs[0]["metadata"].update(annotations={"team": "socks"}),
            "document 1: metadata.annotations: Gateway API routes carry no annotations",
        ),
        (
            lambda docs: docs[0]["spec"]["rules"][0]["backendRefs"][0].update(namespace="elsewhere"),
            "document 1: spec.rules[0].backendRefs[0].namespace: the console cannot represent this field",
        ),
        (
            lambda docs: docs[0]["spec"]["parentRefs"][0].update(name="someone-elses"),
            "document 1: spec.parentRefs[0]: a route attaches to its gateway's Gateway, kubeconsole-gateway.",
        ),
        (
            lambda docs: docs[0]["spec"]["rules"][0]["matches"][0]["path"].update(type="RegularExpression"),
            "document 1: spec.rules[0].matches[0].path.type: PathPrefix or Exact",
        ),
        (lambda docs: docs[0]["spec"].update(hostnames=["a.example.com", "b.example.com"]), "give exactly one host"),
        (lambda docs: docs[1]["metadata"]["labels"].update(tier="web"), "document 2: metadata.labels: every object"),
    ]
    for change, message in refusals:
        refused = edit_yaml(olga, shop, change)
        assert refused.status_code == 400, message
        assert message in " ".join(refused.context["form"].errors["manifest"])
    assert Route.objects.get(pk=route.pk).generation == 2  # none of them was saved

    def new_secure_host(docs):
        docs[1]["spec"]["hostnames"] = ["rpc.example.com"]
        docs[1]["spec"]["parentRefs"][0]["sectionName"] = https_listener("rpc.example.com")

    refused = edit_yaml(olga, shop, new_secure_host)
    assert "host rpc.example.com has no TLS secret in this route" in " ".join(
        refused.context["form"].errors["manifest"]
    )


def test_edit_rules_shows_a_refusal_that_concerns_more_than_the_rules(route, shop):
    # Stored before the policy refused it: the next save says why it cannot go through.
    Route.objects.filter(pk=route.pk).update(annotations={"acme.example/x": "y"})
    response = logged_in("olga").post(
        url(shop, "front-end/edit-rules/"), rules_post([("/", "front-end", "80")]), **HTMX
    )
    assert response.status_code == 400
    assert "annotations: &#x27;acme.example/x&#x27; is not allowed on routes" in response.content.decode()
    assert Route.objects.get(pk=route.pk).generation == 1


def test_the_route_page_and_the_list_refresh_until_the_route_is_settled(route, shop):
    """Applied is not settled: a route whose gateway is not ready yet keeps its page refreshing,
    and the page stops once the route is Ready (or failed)."""
    olga = logged_in("olga")

    def polls(path: str) -> bool:
        return 'hx-trigger="every 2s"' in olga.get(path, **HTMX).content.decode()

    detail, listing = url(shop, "front-end/"), url(shop)
    assert polls(detail) and polls(listing)  # not applied yet
    waiting = {"type": "Ready", "status": "False", "reason": "GatewayNotReady", "message": "The gateway is not ready"}
    Route.objects.filter(pk=route.pk).update(observed_generation=route.generation, conditions=[waiting])
    assert polls(detail) and polls(listing)  # applied, waiting for its gateway
    ready = {**waiting, "status": "True", "reason": "Ready", "message": "Served."}
    Route.objects.filter(pk=route.pk).update(conditions=[ready])
    assert not polls(detail) and not polls(listing)
    failed = {**waiting, "reason": "BackendNotFound"}
    Route.objects.filter(pk=route.pk).update(conditions=[failed])
    assert not polls(detail)  # failed is settled too: nothing will change by itself
