"""The route pages with Django's test client, a module per view: the list, the wizard, the detail
page, the dialogs and Edit YAML. What they share."""

import yaml
from django.test import Client

from routes.models import Route, RoutePath, RouteRule
from tests.conftest import PASSWORD, password_login

HTMX = {"HTTP_HX_REQUEST": "true"}


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


def many_routes(shop, prefix: str, count: int) -> None:
    """Stored routes as the worker leaves them (without the cluster), for list sizes."""
    routes = Route.objects.bulk_create(
        Route(project=shop, gateway=shop.gateway, name=f"{prefix}{i:03}", observed_generation=1) for i in range(count)
    )
    rules = RouteRule.objects.bulk_create(RouteRule(route=r, position=0, host=f"{r.name}.example.com") for r in routes)
    RoutePath.objects.bulk_create(RoutePath(rule=r, position=0, service="front-end", port_number=80) for r in rules)


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
