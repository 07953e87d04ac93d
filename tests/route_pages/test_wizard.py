"""The Create wizard: each step's checks on its fields, the rules editor, the secret picker, the
prefilled annotations and a crafted state."""

import pytest

from routes import services as route_services
from routes.models import Route
from tests.route_pages import logged_in, url, wizard

pytestmark = pytest.mark.cluster


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
