"""Pure: which host names overlap, whose generated host names a host is among, and why a project
may not claim a host. Nothing here reads the cluster or the database."""

import pytest

from console import hostnames
from routes import hosts

DOMAINS = {"apps.example.com": "shop"}


@pytest.mark.parametrize(
    ("one", "other", "overlap"),
    [
        ("api.shop.example.com", "api.shop.example.com", True),
        ("*.shop.example.com", "api.shop.example.com", True),
        ("*.shop.example.com", "a.b.shop.example.com", True),
        ("*.shop.example.com", "*.b.shop.example.com", True),
        ("*.example.com", "*.shop.example.com", True),
        ("*.shop.example.com", "shop.example.com", False),  # the apex is not in the subdomain
        ("*.shop.example.com", "api.shopexample.com", False),
        ("*.shop.example.com", "api.other.example.com", False),
        ("api.shop.example.com", "web.shop.example.com", False),
    ],
)
def test_a_wildcard_overlaps_its_whole_subdomain_both_ways(one, other, overlap):
    assert hostnames.overlap(one, other) is overlap
    assert hostnames.overlap(other, one) is overlap


def test_the_wildcards_over_a_host_are_every_domain_above_it():
    assert hostnames.wildcards_over("api.shop.example.com") == ["*.shop.example.com", "*.example.com", "*.com"]
    assert hostnames.wildcards_over("*.shop.example.com") == ["*.example.com", "*.com"]


@pytest.mark.parametrize(
    ("host", "owner"),
    [
        ("front-end.a-shop.10.0.0.7.nip.io", "a-shop"),
        ("*.a-shop.10.0.0.7.nip.io", "a-shop"),
        ("a.b.a-shop.10.0.0.7.nip.io", "a-shop"),
        ("a-shop.10.0.0.7.nip.io", "a-shop"),  # the apex of its space
        ("10.0.0.7.nip.io", None),
        ("front-end.a-shop.10.0.0.nip.io", None),  # not an address
        ("front-end-shop.apps.example.com", "shop"),
        ("apps.example.com", "shop"),
        ("x.y.apps.example.com", "shop"),
        ("front-end.example.com", None),
    ],
)
def test_generated_host_names_belong_to_their_project(host, owner):
    assert hosts.generated_space_owner(host, DOMAINS) == owner


def test_the_auto_hosts_the_console_generates_are_in_their_projects_space():
    class Gateway:
        default_domain = ""
        addresses = ["10.0.0.7"]

    assert hosts.generated_space_owner(hosts.auto_host("front-end", "a-shop", Gateway), {}) == "a-shop"
    Gateway.default_domain = "apps.example.com"
    assert hosts.generated_space_owner(hosts.auto_host("front-end-a", "shop", Gateway), DOMAINS) == "shop"


@pytest.mark.parametrize(
    ("host", "project", "refused"),
    [
        ("front-end.a-shop.10.0.0.7.nip.io", "shop", "names the console generates for another project"),
        ("front-end.a-shop.10.0.0.7.nip.io", "a-shop", None),
        ("front-end-a-shop.apps.example.com", "a-shop", "names the console generates for another project"),
        ("front-end-shop.apps.example.com", "shop", None),
        ("*.10.0.0.7.nip.io", "shop", "takes in host names the console generates for other projects"),
        ("*.nip.io", "shop", "takes in host names"),
        ("*.io", "shop", "takes in host names"),
        ("*.example.com", "other", "takes in host names"),
        ("*.example.com", "shop", None),
        ("www.example.com", "other", None),
    ],
)
def test_a_project_may_not_claim_another_projects_generated_names(host, project, refused):
    problem = hosts.foreign_space_problem(host, project, DOMAINS)
    assert (problem is None) if refused is None else (refused in problem)
    if problem:
        assert "apps.example.com" not in problem and "shop" not in problem  # says it is taken, not whose


PLATFORM = "tenants.example.org"


@pytest.mark.parametrize(
    ("host", "owner"),
    [
        ("front-end-shop.shop.tenants.example.org", "shop"),  # what the suggested default domain generates
        ("*.shop.tenants.example.org", "shop"),
        ("a.b.shop.tenants.example.org", "shop"),
        ("shop.tenants.example.org", "shop"),
        ("tenants.example.org", None),  # the platform's apex is nobody's space
        ("www.example.org", None),
        ("x.apps.example.com", "shop"),  # a gateway's own default domain still counts
    ],
)
def test_with_a_platform_domain_each_project_owns_the_names_under_its_own_part_of_it(host, owner):
    assert hosts.generated_space_owner(host, DOMAINS, PLATFORM) == owner
    if hostnames.is_under(hostnames.name_of(host), PLATFORM):
        assert hosts.generated_space_owner(host, DOMAINS) is None  # without one, nobody's


@pytest.mark.parametrize(
    ("host", "project", "refused"),
    [
        ("front-end-cart.cart.tenants.example.org", "shop", "names the console generates for another project"),
        ("front-end-cart.cart.tenants.example.org", "cart", None),
        ("*.cart.tenants.example.org", "shop", "names the console generates for another project"),
        ("*.cart.tenants.example.org", "cart", None),
        ("*.tenants.example.org", "cart", "takes in host names the console generates for other projects"),
        ("*.example.org", "cart", "takes in host names"),
        ("tenants.example.org", "cart", None),
    ],
)
def test_a_project_may_not_claim_another_projects_part_of_the_platform_domain(host, project, refused):
    problem = hosts.foreign_space_problem(host, project, DOMAINS, PLATFORM)
    assert (problem is None) if refused is None else (refused in problem)
    if problem:
        assert "cart" not in problem and "shop" not in problem
