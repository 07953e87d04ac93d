"""Every route validator, with inputs the API server accepts and inputs it (or the console) refuses."""

import pytest
from django.core.exceptions import ValidationError

from console.validators import validate_annotations_size, validate_qualified_name
from routes import validators as v


def refused(check, *args) -> str:
    with pytest.raises(ValidationError) as raised:
        check(*args)
    return " ".join(raised.value.messages)


@pytest.mark.parametrize("name", ["front-end", "a", "a1", "x" * 63])
def test_good_route_names(name):
    v.validate_route_name(name)


@pytest.mark.parametrize("name", ["", "Front", "-a", "a-", "a_b", "a.b", "x" * 64])
def test_bad_route_names(name):
    refused(v.validate_route_name, name)


@pytest.mark.parametrize(
    "host", ["shop.example.com", "a.b", "*.example.com", "x" * 63 + ".com", "front-end.sock-shop.127.0.0.1.nip.io"]
)
def test_good_hosts(host):
    v.validate_host(host)


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("Shop.example.com", "lowercase"),
        ("shop example.com", "spaces"),
        ("shop.example.com:8080", "port"),
        ("10.0.0.1", "not an IP address"),
        ("::1", "not an IP address"),
        ("shop..example.com", "empty part"),
        ("*", "'*' alone"),
        ("shop.*.example.com", "only as a leading"),
        ("*example.com", "only as a leading"),
        ("a." * 126 + "com", "at most 253"),
        ("-shop.example.com", "not valid"),
        ("", "Enter a host"),
    ],
)
def test_bad_hosts(host, message):
    assert message in refused(v.validate_host, host)


@pytest.mark.parametrize(
    ("path", "path_type"), [("/", "Prefix"), ("/catalogue", "Prefix"), ("/a/b-c_d.e", "Exact"), ("/v1/", "Prefix")]
)
def test_good_paths(path, path_type):
    v.validate_path(path, path_type)


@pytest.mark.parametrize(
    ("path", "path_type", "message"),
    [
        ("foo", "Prefix", "start with '/'"),
        ("/a//b", "Prefix", "'//'"),
        ("/a/../b", "Prefix", "'/../'"),
        ("/a/./b", "Prefix", "'/./'"),
        ("/a%2Fb", "Prefix", "encoded slash"),
        ("/a%2fb", "Exact", "encoded slash"),
        ("/a/.", "Prefix", "end in"),
        ("/a/..", "Prefix", "end in"),
        ("/a b", "Prefix", "only letters"),
        ("/a\tb", "Prefix", "only letters"),
        ("/(api)", "Prefix", "only letters"),
        ("/", "ImplementationSpecific", "Prefix or Exact"),
    ],
)
def test_bad_paths(path, path_type, message):
    assert message in refused(v.validate_path, path, path_type)


@pytest.mark.parametrize("port", [1, 80, 65535, "80", "http", "web-1", "a" * 15])
def test_good_ports(port):
    v.validate_port(port)


@pytest.mark.parametrize(
    ("port", "message"),
    [
        (0, "from 1 to 65535"),
        (70000, "from 1 to 65535"),
        ("", "Enter a port"),
        (None, "Enter a port"),
        (True, "Enter a port"),
        ("HTTP--web", "not a port name"),
        ("http--web", "not a port name"),
        ("a" * 16, "not a port name"),
        ("-http", "not a port name"),
        ("123-456", "not a port name"),
        (8.5, "number or a name"),
        ("¹", "not a port name"),  # isdigit() says yes, int() says no: found by schemathesis
        ("٨٠", "not a port name"),
    ],
)
def test_bad_ports(port, message):
    assert message in refused(v.validate_port, port)


def test_secret_names_are_bare_names_of_the_project():
    v.validate_secret_name("shop-tls")
    assert "another namespace" in refused(v.validate_secret_name, "other-ns/cert")
    assert "not valid" in refused(v.validate_secret_name, "Shop_TLS")


@pytest.mark.parametrize("key", ["app", "example.com/team", "a.b-c_d", "x" * 63, "sub.example.com/" + "y" * 63])
def test_good_qualified_names(key):
    validate_qualified_name(key)


@pytest.mark.parametrize(
    "key", ["", "-app", "app-", "bad key", "example.com/", "/app", "x" * 64, "Example_.com/app", "a/b/c"]
)
def test_bad_qualified_names(key):
    refused(validate_qualified_name, key)


def test_labels_follow_kubernetes_rules():
    v.validate_labels({"team": "shop", "example.com/tier": "front-end", "empty": ""})
    assert "not a valid label value" in refused(v.validate_labels, {"team": "has space"})
    assert "not a valid label value" in refused(v.validate_labels, {"team": "x" * 64})
    assert "not a valid key" in refused(v.validate_labels, {"bad key": "x"})


def test_annotations_are_limited_to_256_kib_in_total():
    validate_annotations_size({"a": "x" * (256 * 1024 - 1)})
    assert "at most 256 KiB" in refused(validate_annotations_size, {"a": "x" * (256 * 1024)})
