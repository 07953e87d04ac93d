"""The route list: Create for operators, the notice without a gateway, pages of fifty, and polling
until routes settle."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gateways import services as gateway_services
from routes import services as route_services
from routes.models import Route
from tests.route_pages import HTMX, logged_in, many_routes, url

pytestmark = pytest.mark.cluster


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
