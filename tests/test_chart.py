"""The console installed into a cluster by its Helm chart (scripts/chart/kube-console), as a platform
team installs it: the chart lints and refuses bad values; its ClusterRole holds what the code uses
and nothing wild; and on the local node, with the images built here, `helm install` brings up the
web server, workers, beat, the migrations and the bundled PostgreSQL and Redis, and a tenant works
through the in-cluster console, whose worker reconciles with the chart's RBAC only, until a route
answers through its gateway. Nothing is mocked: helm, the API server (which enforces RBAC), kubelet
and the pods are real."""

import json
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from django.db import connection

from bench.chart import built, env_file, import_images, install_values, local_storage
from console.cluster import KINDS
from gateways import crds, flavors, render
from gateways.models import Gateway
from tenants.models import Project, Workspace
from tests.conftest import ROOT, run_demo_backends, wait_for
from tests.gateway_client import served

CHART = ROOT / "scripts/chart/kube-console"
PASSWORD = "chart-admin-password-1"
pytestmark = [
    pytest.mark.once,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="runs once per test command, in the PostgreSQL pass: the installed console has a database of its own",
    ),
]


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


def rendered(helm, *values: str, chart: Path = CHART, namespace: str = "kube-console") -> list[dict]:
    sets = [arg for value in [*IMAGE_TAGS, *values] for arg in ("--set", value)]
    output = helm("template", "kc", str(chart), "--namespace", namespace, *sets).stdout
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
        ("console.defaultDomain=Apps.example.com", "at '/console/defaultDomain': 'Apps.example.com' does not match"),
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
        "console.defaultDomain=tenants.example.org",
    )
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert not [name for kind, name in kinds if kind == "StatefulSet"]
    secret = next(d for d in documents if d["kind"] == "Secret")
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} == set(secret["data"])
    for deployment in (d for d in documents if d["kind"] == "Deployment"):
        env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["CONSOLE_DEFAULT_DOMAIN"] == "tenants.example.org", deployment["metadata"]["name"]
    unset = helm(
        "template", "kc", str(CHART), "--set", IMAGE_TAGS[0], "--set", "database.bundled.enabled=false", check=False
    )
    assert unset.returncode != 0 and "database: set url or existingSecret" in unset.stderr


@pytest.fixture(scope="module")
def packaged() -> Path:
    """The chart as a platform team installs it: the archive scripts/chart/package.sh prints, which
    carries the gateways' CRDs."""
    return built("scripts/chart/package.sh")


def test_crds_install_brings_every_crd_a_gateway_watches_and_keeps_them_on_uninstall(helm, packaged):
    documents = rendered(helm, "crds.install=true", chart=packaged)
    installed = {d["metadata"]["name"]: d for d in documents if d["kind"] == "CustomResourceDefinition"}
    wanted = {f"{resource}.{crds.TRAEFIK.group}" for resource in crds.TRAEFIK.resources}
    wanted |= {f"{resource}.{crds.GATEWAY_API.group}" for resource in crds.GATEWAY_API.resources}
    assert set(installed) == wanted
    assert {d["metadata"]["annotations"]["helm.sh/resource-policy"] for d in installed.values()} == {"keep"}
    assert not [d for d in rendered(helm, chart=packaged) if d["kind"] == "CustomResourceDefinition"]
    sets = [arg for value in [*IMAGE_TAGS, "crds.install=true"] for arg in ("--set", value)]
    bare = helm("template", "kc", str(CHART), *sets, check=False)
    assert bare.returncode != 0 and "this copy of the chart carries no CRDs" in bare.stderr


@pytest.mark.parametrize(
    "values",
    [
        [],
        [
            "database.bundled.enabled=false",
            "database.url=postgres://console:pw@db.example.com/console",
            "redis.bundled.enabled=false",
            "redis.url=redis://redis.example.com:6379/0",
            "service.type=NodePort",
            "ingress.enabled=true",
            "ingress.host=console.example.com",
            "ingress.tlsSecretName=console-tls",
            "console.flavorImages.traefik=registry.example.com/traefik:v3.6.12",
            "console.defaultDomain=tenants.example.org",
            "crds.install=true",
        ],
    ],
    ids=["bundled", "external-with-ingress-and-crds"],
)
def test_the_rendered_chart_passes_the_api_servers_dry_run(helm, packaged, kubectl, tmp_path, values):
    """Every object the packaged chart renders, sent to the API server with dryRun=All: its
    validation and admission accept them as they are (helm's own --dry-run=server only renders)."""
    namespace = f"dry-run-{uuid.uuid4().hex[:6]}"
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(yaml.safe_dump_all(rendered(helm, *values, chart=packaged, namespace=namespace)))
    kubectl("create", "namespace", namespace)
    try:
        applying = ["apply", "--server-side", "--force-conflicts", "--dry-run=server", "--namespace", namespace]
        said = kubectl(*applying, "-f", str(manifest))
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false")
    kinds = {line.split("/")[0] for line in said.splitlines()}
    assert {"deployment.apps", "job.batch", "clusterrole.rbac.authorization.k8s.io", "secret"} <= kinds, said
    assert ("statefulset.apps" in kinds) == (values == []), said
    assert ("ingress.networking.k8s.io" in kinds) == (values != []), said
    assert ("customresourcedefinition.apiextensions.k8s.io" in kinds) == (values != []), said


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
    values: list[str]  # the --set arguments it was installed with

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


@pytest.fixture(scope="module")
def installed(control_plane, kubectl, helm, packaged):
    """`helm install` of the chart into the local cluster, with the images built here imported into
    the node (as a push to the cluster's registry would make them available) and the bundled
    PostgreSQL and Redis on hostPath volumes; waits for every pod to be Ready."""
    node = control_plane.node
    if not node:
        pytest.skip("the local cluster has no node (it gets one when the tests run as root), so no pod runs")
    values = install_values(import_images(control_plane.state), node["NODE_IP"])
    tag = uuid.uuid4().hex[:6]
    volumes = local_storage(kubectl, control_plane.state, tag, 2)
    namespace, release = f"console-{tag}", "kc"
    helm(
        "install", release, str(packaged), "--namespace", namespace, "--create-namespace",
        *values, "--wait", "--timeout", "5m", kubeconfig=control_plane.kubeconfig,
    )  # fmt: skip
    service = json.loads(kubectl("-n", namespace, "get", "service", f"{release}-kube-console", "-o", "json"))
    base = f"http://{node['NODE_IP']}:{service['spec']['ports'][0]['nodePort']}"
    yield Installed(namespace, release, base, node["NODE_IP"], control_plane.kubeconfig, values)
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


@dataclass
class Shop:
    """A tenant's project in the installed console: a Traefik gateway and routes to the demo backend."""

    project: str
    token: str
    node_port: int
    routes: list[str]

    def host(self, route: str) -> str:
        return f"{route}.{self.project}.example.com"


def ready(api: requests.Session, url: str, what: str, timeout: float = 120) -> dict:
    return wait_for(
        lambda: (item := api.get(url, timeout=10).json()) and condition(item).get("status") == "True" and item,
        timeout=timeout,
        what=what,
    )


@pytest.fixture(scope="module")
def shop(installed, kubectl, control_plane) -> Shop:
    """Through the installed console's API only: a platform admin (made with kubectl exec), a
    workspace and project, the project's Traefik gateway and three routes, all Ready."""
    installed.manage(
        kubectl,
        "from tenants import services",
        f"services.create_user(username='platform', password='{PASSWORD}', platform_admin=True)",
    )
    token = requests.post(
        f"{installed.base}/api/v1/auth/token/", json={"username": "platform", "password": PASSWORD}, timeout=10
    ).json()["token"]
    api, base = installed.api(token), f"{installed.base}/api/v1"
    project = f"chart-{installed.namespace[-6:]}"
    assert api.post(f"{base}/workspaces/", json={"name": project}, timeout=10).status_code == 201
    created = api.post(f"{base}/workspaces/{project}/projects/", json={"name": project}, timeout=10)
    assert created.status_code == 201, created.text
    ready(api, f"{base}/projects/{project}/", "the in-cluster console to create the project's namespace", 60)
    run_demo_backends(control_plane, project)
    gateway = api.put(
        f"{base}/projects/{project}/gateway/",
        json={"flavor": "traefik", "access_mode": "NodePort", "generation": 0},
        timeout=10,
    )
    assert gateway.status_code == 202, gateway.text
    node_port = ready(api, f"{base}/projects/{project}/gateway/", "the gateway to be Ready")["status"]["node_ports"]
    shop = Shop(project, token, node_port["http"], ["shop", "cart", "pay"])
    for name in shop.routes:
        rule = {"host": shop.host(name), "paths": [{"path": "/", "service": "front-end", "port": 80}]}
        route = api.post(f"{base}/projects/{project}/routes/", json={"name": name, "rules": [rule]}, timeout=10)
        assert route.status_code == 201, route.text
    for name in shop.routes:
        ready(api, f"{base}/projects/{project}/routes/{name}/", f"route {name} to be Ready")
    return shop


def answers(installed: Installed, shop: Shop, route: str) -> bool:
    answer = served(installed.node_ip, shop.node_port, shop.host(route))
    return bool(answer) and answer.json["service"] == "front-end"


def test_helm_install_brings_up_a_console_whose_worker_serves_routes_with_the_charts_rbac_only(
    installed, shop, kubectl
):
    pods = json.loads(kubectl("-n", installed.namespace, "get", "pods", "-o", "json"))["items"]
    component = "app.kubernetes.io/component"
    running = {p["metadata"]["labels"][component] for p in pods if p["status"]["phase"] == "Running"}
    assert running == {"web", "worker", "beat", "postgresql", "redis"}
    assert requests.get(f"{installed.base}/readyz", timeout=5).json() == {"database": "ok", "redis": "ok"}

    browser = sign_in(installed, "platform", PASSWORD)
    page = browser.get(f"{installed.base}/projects/{shop.project}/routes/", timeout=10)
    assert page.status_code == 200 and all(name in page.text for name in shop.routes)
    stylesheet = browser.get(f"{installed.base}/static/console.css", timeout=10)
    assert stylesheet.status_code == 200 and "text/css" in stylesheet.headers["Content-Type"]
    for name in shop.routes:
        assert wait_for(lambda name=name: answers(installed, shop, name), timeout=60, what=f"route {name} to answer")


class Stream:
    """A steady stream of requests to the installed console, as tenants make them, until stopped:
    reads of the route list and page, and edits of each route's annotations (every edit a new
    value, sent with the generation it edits). Each request goes on a new connection, so a request
    that fails is the server's failure, not a reused connection's. Records what failed and the last
    value each route was given."""

    def __init__(self, installed: Installed, shop: Shop):
        self.base = f"{installed.base}/api/v1/projects/{shop.project}/routes/"
        self.headers = {"Authorization": f"Token {shop.token}", "Connection": "close"}
        self.routes = shop.routes
        self.sent = 0
        self.failed: list[str] = []
        self.last: dict[str, str] = {}
        self.stopping = threading.Event()
        editors = [threading.Thread(target=self.edit, args=(route,)) for route in self.routes]
        self.threads = [threading.Thread(target=self.read), *editors]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def call(self, method: str, url: str, **kwargs) -> requests.Response | None:
        self.sent += 1
        try:
            response = requests.request(
                method, url, headers={**self.headers, **kwargs.pop("headers", {})}, timeout=15, **kwargs
            )
        except requests.RequestException as error:
            self.failed.append(f"{method} {url}: {error}")
            return None
        if response.status_code >= 500 or response.status_code in (401, 403, 404):
            self.failed.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
            return None
        return response

    def read(self):
        while not self.stopping.is_set():
            self.call("GET", self.base, params={"limit": 50})
            time.sleep(0.05)

    def edit(self, route: str):
        value = 0
        generation = self.call("GET", f"{self.base}{route}/").json()["generation"]
        while not self.stopping.is_set():
            value += 1
            body = {"annotations": {"edit": str(value)}}
            answer = self.call("PATCH", f"{self.base}{route}/", json=body, headers={"If-Match": f'"{generation}"'})
            if answer is not None and answer.status_code == 200:
                generation, self.last[route] = answer.json()["generation"], str(value)
            elif answer is not None:  # one editor per route: nothing else is expected
                self.failed.append(f"PATCH {route}: {answer.status_code} {answer.text[:200]}")
                generation = self.call("GET", f"{self.base}{route}/").json()["generation"]
            time.sleep(0.2)


def converged(installed: Installed, shop: Shop, kubectl, last: dict[str, str]) -> None:
    """Waits until every route's last edit is stored, reconciled and in the cluster's object."""
    api = installed.api(shop.token)
    for route, value in last.items():
        url = f"{installed.base}/api/v1/projects/{shop.project}/routes/{route}/"

        def applied(route=route, value=value, url=url):
            item = api.get(url, timeout=10).json()
            if item["annotations"].get("edit") != value:
                return False
            status = item["status"]
            return (
                status["observed_generation"] == item["generation"]
                and condition(item, "Synced").get("status") == "True"
            )

        wait_for(applied, timeout=120, what=f"route {route}'s last edit ({value}) to be applied")
        live = json.loads(kubectl("-n", shop.project, "get", "ingressroutes.traefik.io,ingresses", "-o", "json"))[
            "items"
        ]
        annotations = [obj["metadata"].get("annotations", {}) for obj in live if obj["metadata"]["name"] == route]
        assert annotations and annotations[0].get("edit") == value, (route, annotations)


def pod_names(kubectl, installed: Installed, component: str) -> list[str]:
    selector = f"app.kubernetes.io/instance={installed.release},app.kubernetes.io/component={component}"
    pods = json.loads(kubectl("-n", installed.namespace, "get", "pods", "-l", selector, "-o", "json"))["items"]
    return [p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")]


# How long a replaced pod may take to be Ready: its probes start Django each time, and the suite's
# other xdist worker keeps both cores busy meanwhile. What the tests assert is that nothing is lost.
POD_READY_SECONDS = 300


def all_ready(kubectl, installed: Installed) -> bool:
    pods = json.loads(kubectl("-n", installed.namespace, "get", "pods", "-o", "json"))["items"]
    serving = [p for p in pods if p["metadata"]["labels"].get("app.kubernetes.io/component") != "migrate"]
    return all(
        not p["metadata"].get("deletionTimestamp")
        and all(c.get("ready") for c in p["status"].get("containerStatuses", [{}]))
        for p in serving
    )


def test_a_second_console_in_the_same_cluster_is_refused_before_anything_is_written(
    installed, helm, packaged, kubectl, control_plane
):
    second = helm(
        "install", "other", str(packaged), "--namespace", "console-other", "--create-namespace",
        *installed.values, "--wait", "--timeout", "1m", kubeconfig=control_plane.kubeconfig, check=False,
    )  # fmt: skip
    assert second.returncode != 0
    said = f"a console is already installed in this cluster (release {installed.namespace}/{installed.release})"
    assert said in second.stderr, second.stderr
    assert "console-other" not in kubectl("get", "namespaces", "-o", "name")
    assert helm("list", "--all-namespaces", "-q", kubeconfig=control_plane.kubeconfig).stdout.split() == ["kc"]


@pytest.mark.timeout(900)
def test_deleting_a_web_pod_then_a_worker_pod_under_a_stream_of_reads_and_edits_loses_nothing(installed, shop, kubectl):
    with Stream(installed, shop) as stream:
        time.sleep(3)
        kubectl("-n", installed.namespace, "delete", "pod", pod_names(kubectl, installed, "web")[0], "--wait=false")
        time.sleep(2)
        wait_for(lambda: all_ready(kubectl, installed), timeout=POD_READY_SECONDS, what="a new web pod to be Ready")
        time.sleep(2)
        # Mid-reconcile: the edits keep the workers busy applying.
        kubectl("-n", installed.namespace, "delete", "pod", pod_names(kubectl, installed, "worker")[0], "--wait=false")
        wait_for(lambda: all_ready(kubectl, installed), timeout=POD_READY_SECONDS, what="a new worker pod to be Ready")
        time.sleep(3)
    print(f"\nweb and worker pod deletions: {stream.sent} requests sent, {len(stream.failed)} failed")
    assert stream.failed == [], stream.failed[:10]
    assert len(stream.last) == len(shop.routes) and stream.sent > 100
    converged(installed, shop, kubectl, stream.last)


def test_a_permission_the_console_lacks_is_reported_on_the_object_in_the_api_servers_words(installed, shop, kubectl):
    role_name = installed.fullname
    original = json.loads(kubectl("get", "clusterrole", role_name, "-o", "json"))
    narrowed = json.loads(json.dumps(original))
    for rule in narrowed["rules"]:
        if "ingressroutes" in rule["resources"] and "patch" in rule["verbs"]:
            rule["resources"].remove("ingressroutes")
    narrowed["rules"] = [rule for rule in narrowed["rules"] if rule["resources"]]
    path = Path(installed.kubeconfig).parent / f"narrowed-{role_name}.json"
    path.write_text(json.dumps(narrowed))
    api = installed.api(shop.token)
    routes = f"{installed.base}/api/v1/projects/{shop.project}/routes/"
    kubectl("replace", "-f", str(path))
    try:
        rule = {"host": shop.host("denied"), "paths": [{"path": "/", "service": "front-end", "port": 80}]}
        assert api.post(routes, json={"name": "denied", "rules": [rule]}, timeout=10).status_code == 201
        refused = wait_for(
            lambda: (
                (item := api.get(f"{routes}denied/", timeout=10).json())
                and condition(item, "Synced").get("status") == "False"
                and item
            ),
            timeout=60,
            what="the route to say the console may not apply it",
        )
        message = condition(refused, "Synced")["message"]
        account = f"system:serviceaccount:{installed.namespace}:{installed.fullname}"
        assert f'User "{account}" cannot patch resource "ingressroutes"' in message, message
        assert refused["status"]["state"] != "Ready"
    finally:
        original["metadata"].pop("resourceVersion", None)
        path.write_text(json.dumps(original))
        kubectl("replace", "-f", str(path))
        api.delete(f"{routes}denied/", timeout=10)


PROBE_MIGRATION = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tenants", "{leaf}")]
    operations = [
        migrations.RunSQL(
            "CREATE TABLE upgrade_probe (ran_at timestamp with time zone DEFAULT now()); "
            "INSERT INTO upgrade_probe DEFAULT VALUES;",
            "DROP TABLE upgrade_probe;",
        )
    ]
"""


def upgrade_image(tmp_path: Path) -> dict[str, str]:
    """The console's image rebuilt with one more migration (it records each run in a table)."""
    from django.db.migrations.loader import MigrationLoader

    (leaf,) = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("tenants")
    overlay = tmp_path / "overlay"
    (overlay / "tenants/migrations").mkdir(parents=True)
    (overlay / "tenants/migrations/9999_upgrade_probe.py").write_text(PROBE_MIGRATION.format(leaf=leaf[1]))
    done = subprocess.run(
        [ROOT / "scripts/images/console.sh"],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "CONSOLE_IMAGE_OVERLAY": str(overlay)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {"dir": done.stdout.strip().splitlines()[-1]}


def console_secret(kubectl, installed: Installed) -> dict:
    return json.loads(kubectl("-n", installed.namespace, "get", "secret", installed.fullname, "-o", "json"))["data"]


# It builds the upgraded image itself: 140 s alone, and once over the suite's 300 s under its load.
@pytest.mark.timeout(900)
def test_helm_upgrade_to_a_rebuilt_image_with_a_migration_under_a_stream_fails_no_request_and_migrates_once(
    installed, shop, kubectl, helm, packaged, control_plane, tmp_path
):
    built_dir = Path(upgrade_image(tmp_path)["dir"])
    new_image = env_file(built_dir / "image.env")["CONSOLE_IMAGE"]
    imported = subprocess.run(
        [ROOT / "scripts/node/import.sh", control_plane.state, built_dir / "console.tar"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert imported.returncode == 0, imported.stderr
    secrets_before = console_secret(kubectl, installed)
    signed_in = sign_in(installed, "platform", PASSWORD)  # a user at work across the upgrade
    with Stream(installed, shop) as stream:
        time.sleep(2)
        helm(
            "upgrade", installed.release, str(packaged), "--namespace", installed.namespace, "--reuse-values",
            "--set", f"image.tag={new_image.rpartition(':')[2]}", "--wait", "--timeout", "5m",
            kubeconfig=control_plane.kubeconfig,
        )  # fmt: skip
        wait_for(lambda: all_ready(kubectl, installed), timeout=POD_READY_SECONDS, what="the upgraded pods to be Ready")
        time.sleep(2)
    print(f"\nhelm upgrade: {stream.sent} requests sent, {len(stream.failed)} failed")
    assert stream.failed == [], stream.failed[:10]
    assert stream.sent > 100
    pods = json.loads(kubectl("-n", installed.namespace, "get", "pods", "-o", "json"))["items"]
    images = {
        c["image"]
        for p in pods
        for c in p["spec"]["containers"]
        if p["metadata"]["labels"].get("app.kubernetes.io/component") in ("web", "worker", "beat")
    }
    assert images == {new_image}
    ran = installed.manage(
        kubectl,
        "from django.db import connection",
        "cursor = connection.cursor()",
        "cursor.execute('SELECT count(*) FROM upgrade_probe')",
        "print('probe runs:', cursor.fetchone()[0])",
    )
    assert "probe runs: 1" in ran
    assert console_secret(kubectl, installed) == secrets_before  # the secret key and passwords are kept
    still = signed_in.get(f"{installed.base}/workspaces/", allow_redirects=False, timeout=10)
    assert still.status_code == 200 and "platform" in still.text, "the upgrade signed the user out"
    job = json.loads(kubectl("-n", installed.namespace, "get", "job", f"{installed.fullname}-migrate-2", "-o", "json"))
    assert job["status"].get("succeeded") == 1
    converged(installed, shop, kubectl, stream.last)
    for name in shop.routes:
        assert answers(installed, shop, name), f"route {name} no longer answers after the upgrade"


def test_helm_uninstall_removes_the_console_and_leaves_tenants_gateways_and_routes_serving(
    installed, shop, kubectl, helm, control_plane
):
    helm(
        "uninstall",
        installed.release,
        "--namespace",
        installed.namespace,
        "--wait",
        kubeconfig=control_plane.kubeconfig,
    )
    left = kubectl(
        "-n",
        installed.namespace,
        "get",
        "deployments,statefulsets,services,jobs,secrets,serviceaccounts",
        "-l",
        f"app.kubernetes.io/instance={installed.release}",
        "-o",
        "name",
    )
    assert left.strip() == ""
    assert (
        kubectl(
            "get",
            "clusterroles,clusterrolebindings",
            "-l",
            f"app.kubernetes.io/instance={installed.release}",
            "-o",
            "name",
        ).strip()
        == ""
    )
    assert json.loads(kubectl("get", "namespace", shop.project, "-o", "json"))["status"]["phase"] == "Active"
    for name in shop.routes:
        assert answers(installed, shop, name), f"route {name} stopped answering when the console was uninstalled"
