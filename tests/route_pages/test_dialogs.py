"""The Edit Info, Edit Rules, Edit Annotations and Delete dialogs."""

import pytest

from routes.models import Route
from tests.route_pages import HTMX, logged_in, rules_post, url

pytestmark = pytest.mark.cluster


def test_edit_info_dialog(route, shop):
    olga = logged_in("olga")
    assert "Edit Info" in olga.get(url(shop, "front-end/edit-info/"), **HTMX).content.decode()
    response = olga.post(url(shop, "front-end/edit-info/"), {"alias": "Shop", "description": "socks"}, **HTMX)
    assert response.status_code == 204
    route.refresh_from_db()
    assert (route.alias, route.description, route.generation) == ("Shop", "socks", 1)


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


def test_delete_asks_for_the_name(route, shop):
    olga = logged_in("olga")
    wrong = olga.post(url(shop, "front-end/delete/"), {"name": "front"}, **HTMX)
    assert wrong.status_code == 400 and not Route.objects.get(pk=route.pk).deletion_requested
    response = olga.post(url(shop, "front-end/delete/"), {"name": "front-end"}, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == url(shop)
    assert Route.objects.get(pk=route.pk).deletion_requested


def test_a_crafted_editor_action_in_the_edit_rules_dialog_is_refused(route, shop):
    data = {**rules_post([("/", "front-end", "80")]), "action": "remove-path-0-5"}
    response = logged_in("olga").post(url(shop, "front-end/edit-rules/"), data, **HTMX)
    assert response.status_code == 400 and "has no path 6" in response.content.decode()
    assert Route.objects.get(pk=route.pk).generation == 1


def test_edit_rules_shows_a_refusal_that_concerns_more_than_the_rules(route, shop):
    # Stored before the policy refused it: the next save says why it cannot go through.
    Route.objects.filter(pk=route.pk).update(annotations={"acme.example/x": "y"})
    response = logged_in("olga").post(
        url(shop, "front-end/edit-rules/"), rules_post([("/", "front-end", "80")]), **HTMX
    )
    assert response.status_code == 400
    assert "annotations: &#x27;acme.example/x&#x27; is not allowed on routes" in response.content.decode()
    assert Route.objects.get(pk=route.pk).generation == 1
