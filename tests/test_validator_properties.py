"""Property tests: whatever the console's validators accept, the Kubernetes API server accepts too
(asked with a dry-run create of the Ingress the console would write), so a tenant's mistake is
always caught by the console first, with its own message on the field, never by the cluster.

Inputs mix arbitrary text with text shaped like valid values, so both sides of each rule are
exercised; every accepted input is sent to the real API server."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from console import cluster
from console.validators import validate_qualified_name
from routes.validators import validate_host, validate_path, validate_route_name, validate_secret_name

pytestmark = pytest.mark.cluster

NAMESPACE = "validator-properties"
# Derandomized: the same examples every run, so a red CI run is always reproducible.
PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)


def or_with_newline(valid):
    """Valid values, and the same with a trailing newline (which a pattern's '$' lets through)."""
    return st.one_of(valid, valid.map(lambda value: value + "\n"))


ALMOST = st.text(alphabet="abcxyz019-._*/%AZ ~:", min_size=0, max_size=70)
NAMES = st.one_of(or_with_newline(LABEL), ALMOST, st.text(max_size=80))
HOSTS = st.one_of(
    or_with_newline(st.lists(LABEL, min_size=1, max_size=5).map(".".join)),
    st.lists(LABEL, min_size=2, max_size=4).map(lambda parts: "*." + ".".join(parts)),
    ALMOST,
    st.text(max_size=80),
)
PATHS = st.one_of(
    or_with_newline(
        st.lists(st.text(alphabet="abz09-._~%2fF", min_size=0, max_size=8), max_size=5).map(lambda p: "/" + "/".join(p))
    ),
    st.text(alphabet="/abz.%2F-_~ ", max_size=30),
    st.text(max_size=40),
)
ANNOTATION_KEYS = st.one_of(
    or_with_newline(st.tuples(st.lists(LABEL, min_size=1, max_size=3).map(".".join), LABEL).map("/".join)),
    LABEL,
    ALMOST,
    st.text(max_size=70),
)


@pytest.fixture(scope="module")
def namespace(control_plane):
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    yield NAMESPACE
    cluster.delete("v1", "Namespace", NAMESPACE)


def accepts(check, *args) -> bool:
    try:
        check(*args)
    except ValidationError:
        return False
    return True


def ingress(name="probe", host="probe.example.com", path="/", path_type="Prefix", annotations=None, secret=None):
    spec = {
        "rules": [
            {
                "host": host,
                "http": {
                    "paths": [
                        {
                            "path": path,
                            "pathType": path_type,
                            "backend": {"service": {"name": "web", "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    }
    if secret:
        spec["tls"] = [{"hosts": [host], "secretName": secret}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": NAMESPACE, "annotations": annotations or {}},
        "spec": spec,
    }


def server_accepts(manifest: dict) -> bool:
    """A dry-run create: the API server validates everything and stores nothing."""
    try:
        cluster.request(
            "POST",
            f"/apis/networking.k8s.io/v1/namespaces/{NAMESPACE}/ingresses",
            body=manifest,
            query=[("dryRun", "All")],
            content_type="application/json",
        )
    except cluster.Invalid:
        return False
    return True


@PROPERTY_SETTINGS
@given(name=NAMES)
@example(name="a" * 63)
@example(name="front-end")
def test_accepted_route_names_are_accepted_by_the_api_server(namespace, name):
    if accepts(validate_route_name, name):
        assert server_accepts(ingress(name=name)), name


@PROPERTY_SETTINGS
@given(host=HOSTS)
@example(host="*.example.com")
@example(host="a" * 63 + ".example.com")
def test_accepted_hosts_are_accepted_by_the_api_server(namespace, host):
    if accepts(validate_host, host):
        assert server_accepts(ingress(host=host)), host


@PROPERTY_SETTINGS
@given(path=PATHS, path_type=st.sampled_from(["Prefix", "Exact"]))
@example(path="/", path_type="Prefix")
@example(path="/a-b_c.d~e/%41", path_type="Exact")
def test_accepted_paths_are_accepted_by_the_api_server(namespace, path, path_type):
    if accepts(validate_path, path, path_type):
        assert server_accepts(ingress(path=path, path_type=path_type)), path


@PROPERTY_SETTINGS
@given(key=ANNOTATION_KEYS, value=st.text(max_size=100))
@example(key="example.com/team", value="shop")
def test_accepted_annotation_keys_are_accepted_by_the_api_server(namespace, key, value):
    if accepts(validate_qualified_name, key):
        assert server_accepts(ingress(annotations={key: value})), key


@PROPERTY_SETTINGS
@given(name=NAMES)
@example(name="shop-tls")
def test_accepted_secret_names_are_accepted_by_the_api_server(namespace, name):
    if accepts(validate_secret_name, name):
        assert server_accepts(ingress(secret=name)), name


@pytest.mark.parametrize(
    ("check", "args", "manifest"),
    [
        (validate_route_name, ("Front_End",), ingress(name="Front_End")),
        (validate_host, ("shop..example.com",), ingress(host="shop..example.com")),
        (validate_host, ("10.0.0.1",), ingress(host="10.0.0.1")),
        (validate_path, ("catalogue", "Prefix"), ingress(path="catalogue")),
        (validate_qualified_name, ("bad key!",), ingress(annotations={"bad key!": "x"})),
    ],
)
def test_what_the_api_server_refuses_the_console_refuses_first(namespace, check, args, manifest):
    assert not server_accepts(manifest)
    assert not accepts(check, *args)
