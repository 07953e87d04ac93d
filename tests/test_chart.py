"""The console installed into a cluster by its Helm chart (scripts/chart/kube-console), as a platform
team installs it: the chart lints and refuses bad values; its ClusterRole holds what the code uses
and nothing wild; and on the local node, with the images built here, `helm install` brings up the
web server, workers, beat, the migrations and the bundled PostgreSQL and Redis, and a tenant works
through the in-cluster console, whose worker reconciles with the chart's RBAC only, until a route
answers through its gateway. Nothing is mocked: helm, the API server (which enforces RBAC), kubelet
and the pods are real."""

import json
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from django.db import connection

from console.cluster import KINDS
from gateways import flavors, render
from gateways.models import Gateway
from tenants.models import Project, Workspace
from tests.conftest import ROOT, run_demo_backends, wait_for
from tests.gateway_client import served

CHART = ROOT / "scripts/chart/kube-console"
PASSWORD = "chart-admin-password-1"
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="runs once per test command, in the PostgreSQL pass: the installed console has a database of its own",
)


def built(script: str) -> Path:
    """The directory a build script prints last (building what its cache lacks)."""
    done = subprocess.run([ROOT / script], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return Path(done.stdout.strip().splitlines()[-1])


def env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@pytest.fixture(scope="session")
def helm():
    binary = built("scripts/chart/tools.sh") / "helm"

    def run(*args: str, kubeconfig: Path | None = None, check: bool = True, timeout: float = 600):
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "HELM_CACHE_HOME": "/tmp/helm-cache"}
        if kubeconfig:
            env["KUBECONFIG"] = str(kubeconfig)
        done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout, env=env)
        if check:
            assert done.returncode == 0, f"helm {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        return done

    return run


IMAGE_TAGS = ["image.tag=test", "database.bundled.image.tag=test", "redis.bundled.image.tag=test"]


def rendered(helm, *values: str) -> list[dict]:
    sets = [arg for value in [*IMAGE_TAGS, *values] for arg in ("--set", value)]
    output = helm("template", "kc", str(CHART), "--namespace", "kube-console", *sets).stdout
    return [document for document in yaml.safe_load_all(output) if document]


def test_the_chart_lints_clean_and_its_schema_refuses_bad_values_by_name(helm):
    sets = [arg for value in IMAGE_TAGS for arg in ("--set", value)]
    linted = helm("lint", "--strict", str(CHART), *sets, check=False)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    for bad, said in [
        ("web.replicas=0", "at '/web/replicas': minimum: got 0, want 1"),
        ("service.type=Cluster", "at '/service/type': value must be one of 'ClusterIP', 'NodePort', 'LoadBalancer'"),
        ("console.flavorImages.nginx=x", "invalid propertyName 'nginx'"),
        ("database.url=mysql://db/console", "at '/database/url': 'mysql://db/console' does not match pattern"),
        ("console.https=maybe", "at '/console/https': got string, want boolean"),
        ("web.replica=2", "at '/web': additional properties 'replica' not allowed"),
    ]:
        refused = helm("lint", str(CHART), *sets, "--set", bad, check=False)
        assert refused.returncode != 0 and said in refused.stdout, (bad, refused.stdout)
    missing = helm("template", "kc", str(CHART), check=False)
    assert missing.returncode != 0 and "image.tag is required" in missing.stderr


def test_external_database_and_redis_are_given_by_url_and_nothing_is_bundled(helm):
    documents = rendered(
        helm,
        "database.bundled.enabled=false",
        "database.url=postgres://console:pw@db.example.com/console",
        "redis.bundled.enabled=false",
        "redis.url=redis://redis.example.com:6379/0",
    )
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert not [name for kind, name in kinds if kind == "StatefulSet"]
    secret = next(d for d in documents if d["kind"] == "Secret")
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} == set(secret["data"])
    unset = helm(
        "template", "kc", str(CHART), "--set", IMAGE_TAGS[0], "--set", "database.bundled.enabled=false", check=False
    )
    assert unset.returncode != 0 and "database: set url or existingSecret" in unset.stderr


def granted(rules: list[dict]) -> set[tuple[str, str, str]]:
    """(group, resource, verb) a role's rules allow, with no resourceNames restriction."""
    return {
        (group, resource, verb)
        for rule in rules
        if not rule.get("resourceNames")
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_console_role_holds_what_the_code_uses_and_what_gateways_are_granted_and_nothing_wild(helm):
    role = next(d for d in rendered(helm) if d["kind"] == "ClusterRole")
    held = granted(role["rules"])
    flat = [value for rule in role["rules"] for key in ("apiGroups", "resources", "verbs") for value in rule[key]]
    assert "*" not in flat
    assert not {"escalate", "bind", "impersonate", "deletecollection"} & {verb for _, _, verb in held}

    # Every kind the console's client knows, read; the kinds it writes, also written.
    written = {(m[0], m[1]) for m in render.NAMESPACED_KINDS + render.CLUSTER_KINDS}
    written |= {("v1", "Namespace"), ("networking.k8s.io/v1", "Ingress"), ("traefik.io/v1alpha1", "IngressRoute")}
    written |= {(render.GATEWAY_API, kind) for kind in ("GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute")}
    for (api_version, kind_name), kind in KINDS.items():
        group = api_version.rpartition("/")[0]
        verbs = {"get", "list"} | ({"create", "patch", "delete"} if (api_version, kind_name) in written else set())
        for verb in verbs:
            assert (group, kind.plural, verb) in held, f"the console may not {verb} {kind.plural}"

    # Everything each flavor's controller is granted, in either route API.
    project = Project(name="p", workspace=Workspace(name="w"))
    for key in flavors.FLAVORS:
        for route_api in (flavors.INGRESS_API, flavors.GATEWAY_API):
            parts = render.FLAVOR_PARTS[key](Gateway(pk=3, project=project, flavor=key, route_api=route_api))
            for rule in parts["namespaced_rules"] + parts["cluster_rules"]:
                for entry in granted([{**rule, "resourceNames": None}]):
                    assert entry in held, f"{key} ({route_api}) is granted {entry}, which the console does not hold"


@dataclass
class Installed:
    """The console as the chart installed it into the local cluster."""

    namespace: str
    release: str
    base: str  # the console's Service, through its node port
    node_ip: str
    kubeconfig: Path
    seconds_to_ready: float

    @property
    def fullname(self) -> str:
        return f"{self.release}-kube-console"

    def manage(self, kubectl, *code: str) -> str:
        """Runs Python in a web pod of the installed console, as a platform admin would (kubectl exec)."""
        return kubectl(
            "-n",
            self.namespace,
            "exec",
            f"deploy/{self.fullname}-web",
            "-c",
            "web",
            "--",
            "/app/scripts/console",
            "manage",
            "shell",
            "-c",
            "\n".join(code),
        )

    def api(self, token: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        return session


def local_storage(kubectl, control_plane, tag: str, count: int) -> list[str]:
    """A default StorageClass and `count` hostPath PersistentVolumes on the local node (a real
    cluster's provisioner makes these); returns the volumes' names."""
    names = [f"kc-{tag}-{index}" for index in range(count)]
    documents = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "local", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    ]
    for name in names:
        path = control_plane.state / "volumes" / name
        path.mkdir(parents=True)
        path.chmod(0o777)  # the bundled servers run as their own users; hostPath ignores fsGroup
        documents.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name},
                "spec": {
                    "capacity": {"storage": "2Gi"},
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "local",
                    "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": str(path), "type": "Directory"},
                },
            }
        )
    manifest = control_plane.state / f"storage-{tag}.yaml"
    manifest.write_text(yaml.safe_dump_all(documents))
    kubectl("apply", "-f", str(manifest))
    return names


def install_values(images: dict[str, str], node_ip: str) -> list[str]:
    tag = lambda image: image.rpartition(":")[2]  # noqa: E731
    values = [
        f"image.tag={tag(images['CONSOLE_IMAGE'])}",
        f"database.bundled.image.tag={tag(images['POSTGRESQL_IMAGE'])}",
        f"database.bundled.uid={images['POSTGRESQL_UID']}",
        f"redis.bundled.image.tag={tag(images['REDIS_IMAGE'])}",
        f"redis.bundled.uid={images['REDIS_UID']}",
        "service.type=NodePort",
        "console.https=false",  # reached over plain HTTP on the node's address
        f"console.allowedHosts={{{node_ip}}}",
        "console.resyncSeconds=10",
    ]
    return [arg for value in values for arg in ("--set", value)]


@pytest.fixture(scope="module")
def installed(control_plane, kubectl, helm):
    """`helm install` of the chart into the local cluster, with the images built here imported into
    the node (as a push to the cluster's registry would make them available) and the bundled
    PostgreSQL and Redis on hostPath volumes; waits for every pod to be Ready."""
    node = control_plane.node
    if not node:
        pytest.skip("the local cluster has no node (it gets one when the tests run as root), so no pod runs")
    console_dir, services_dir = built("scripts/images/console.sh"), built("scripts/images/services.sh")
    images = env_file(console_dir / "image.env") | env_file(services_dir / "images.env")
    archives = [console_dir / "console.tar", services_dir / "postgresql.tar", services_dir / "redis.tar"]
    imported = subprocess.run(
        [ROOT / "scripts/node/import.sh", control_plane.state, *archives], capture_output=True, text=True, timeout=600
    )
    assert imported.returncode == 0, imported.stderr
    tag = uuid.uuid4().hex[:6]
    volumes = local_storage(kubectl, control_plane, tag, 2)
    namespace, release = f"console-{tag}", "kc"
    started = time.monotonic()
    helm(
        "install", release, str(CHART), "--namespace", namespace, "--create-namespace",
        *install_values(images, node["NODE_IP"]), "--wait", "--timeout", "5m",
        kubeconfig=control_plane.kubeconfig,
    )  # fmt: skip
    seconds = time.monotonic() - started
    service = json.loads(kubectl("-n", namespace, "get", "service", f"{release}-kube-console", "-o", "json"))
    base = f"http://{node['NODE_IP']}:{service['spec']['ports'][0]['nodePort']}"
    yield Installed(namespace, release, base, node["NODE_IP"], control_plane.kubeconfig, seconds)
    helm("uninstall", release, "--namespace", namespace, "--wait", kubeconfig=control_plane.kubeconfig, check=False)
    kubectl("delete", "namespace", namespace, "--wait=false")
    kubectl("delete", "persistentvolume", *volumes, "--wait=false")


def sign_in(installed: Installed, username: str, password: str) -> requests.Session:
    """A browser's session: the login form, through the console's Service."""
    browser = requests.Session()
    form = browser.get(f"{installed.base}/login/", timeout=10)
    assert form.status_code == 200
    answer = browser.post(
        f"{installed.base}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{installed.base}/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    return browser


def condition(item: dict, kind: str = "Ready") -> dict:
    return next((c for c in item["status"]["conditions"] if c["type"] == kind), {})


def test_helm_install_brings_up_a_console_whose_worker_serves_a_route_with_the_charts_rbac_only(
    installed, kubectl, control_plane
):
    pods = json.loads(kubectl("-n", installed.namespace, "get", "pods", "-o", "json"))["items"]
    running = {
        p["metadata"]["labels"]["app.kubernetes.io/component"] for p in pods if p["status"]["phase"] == "Running"
    }
    assert running == {"web", "worker", "beat", "postgresql", "redis"}
    assert requests.get(f"{installed.base}/readyz", timeout=5).json() == {"database": "ok", "redis": "ok"}

    installed.manage(
        kubectl,
        "from tenants import services",
        f"services.create_user(username='platform', password='{PASSWORD}', platform_admin=True)",
    )
    browser = sign_in(installed, "platform", PASSWORD)
    home = browser.get(f"{installed.base}/", timeout=10)
    assert home.status_code == 200 and "platform" in home.text
    stylesheet = browser.get(f"{installed.base}/static/console.css", timeout=10)
    assert stylesheet.status_code == 200 and "text/css" in stylesheet.headers["Content-Type"]

    token = requests.post(
        f"{installed.base}/api/v1/auth/token/", json={"username": "platform", "password": PASSWORD}, timeout=10
    ).json()["token"]
    api = installed.api(token)
    project = f"chart-{installed.namespace[-6:]}"
    assert api.post(f"{installed.base}/api/v1/workspaces/", json={"name": project}, timeout=10).status_code == 201
    created = api.post(f"{installed.base}/api/v1/workspaces/{project}/projects/", json={"name": project}, timeout=10)
    assert created.status_code == 201, created.text
    wait_for(
        lambda: (
            condition(api.get(f"{installed.base}/api/v1/projects/{project}/", timeout=10).json()).get("status")
            == "True"
        ),
        timeout=60,
        what="the in-cluster console to create the project's namespace",
    )
    run_demo_backends(control_plane, project)
    gateway = api.put(
        f"{installed.base}/api/v1/projects/{project}/gateway/",
        json={"flavor": "traefik", "access_mode": "NodePort", "generation": 0},
        timeout=10,
    )
    assert gateway.status_code == 202, gateway.text
    ready = wait_for(
        lambda: (
            (g := api.get(f"{installed.base}/api/v1/projects/{project}/gateway/", timeout=10).json())
            and condition(g).get("status") == "True"
            and g
        ),
        timeout=120,
        what="the in-cluster console's gateway to be Ready",
    )
    host = f"shop.{project}.example.com"
    route = api.post(
        f"{installed.base}/api/v1/projects/{project}/routes/",
        json={"name": "shop", "rules": [{"host": host, "paths": [{"path": "/", "service": "front-end", "port": 80}]}]},
        timeout=10,
    )
    assert route.status_code == 201, route.text
    answer = wait_for(
        lambda: served(installed.node_ip, ready["status"]["node_ports"]["http"], host),
        timeout=90,
        what="the route to answer through the gateway the in-cluster console made",
    )
    assert answer.json["service"] == "front-end"
    shown = api.get(f"{installed.base}/api/v1/projects/{project}/routes/shop/", timeout=10).json()
    assert condition(shown).get("status") == "True", shown
