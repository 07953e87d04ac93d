"""The detail page: what viewers see, and the route as Gateway API objects on demand."""

import html

import pytest
import yaml

from routes import services as route_services
from tests.route_pages import HTMX, logged_in, url

pytestmark = pytest.mark.cluster


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
