"""What a gateway needs to know of the routes bound to it, supplied by the routes app when it
loads (routes/apps.py), as a controller watches another kind through a map function: this app
imports nothing of routes/. Until routes registers, a gateway has no routes."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class BoundRoutes:
    # {gateway id: {host: TLS secret}} of the TLS rules of the routes of gateways serving the Gateway
    # API (of the given ids, or all): each host needs an HTTPS listener on the gateway's Gateway.
    tls_hosts: Callable[[list[int] | None], dict[int, dict[str, str]]] = lambda gateway_ids=None: {}
    # How many paths of a gateway's routes split their traffic between Services.
    split_paths: Callable[[int], int] = lambda gateway_id: 0
    # Whether routes of projects other than the given one ask for a host in a domain (or under it,
    # or by a wildcard over it).
    hosts_asked_elsewhere: Callable[[int, str], bool] = lambda project_id, domain: False


ROUTES = BoundRoutes()


def register(**functions: Callable) -> None:
    for name, function in functions.items():
        if not hasattr(ROUTES, name):
            raise TypeError(f"a gateway asks nothing called {name} of its routes")
        setattr(ROUTES, name, function)
