"""Shared fixtures.

Integration tests run against real components, started once per session: the local
control plane (real kube-apiserver, etcd and kube-controller-manager, from the cached
binaries), a real Redis, and a real Celery worker process sharing the test database.
"""

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import pytest
import redis
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

from console import cluster
from console.celery import app as celery_app
from tenants import services
from tests import response_checks
from tests.response_checks import CANARY, register_secret_value

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(os.sys.executable).parent
# The SQLite test database lives here (see settings), shared with the worker process.
(ROOT / ".state").mkdir(exist_ok=True)


# scripts/test runs the suite twice, on SQLite and on PostgreSQL, and names the pass here. A test
# runs in both only when the database can change its outcome: it uses the database and needs no
# cluster (queries, locking, migrations, the raw status SQL), or it is marked both_databases. A test
# that needs the cluster, a controller, a browser or a stack of its own runs once, in the PostgreSQL
# pass (the database a platform runs); one that uses no database runs once, in the SQLite pass.
PASS = os.environ.get("KUBE_CONSOLE_TEST_PASS", "")


def runs_in(item, which: str) -> bool:
    once = item.get_closest_marker("cluster") or item.get_closest_marker("once") or "control_plane" in item.fixturenames
    if item.get_closest_marker("both_databases"):
        return True
    if once:
        return which == "postgres"
    uses_database = bool({"db", "transactional_db"} & set(item.fixturenames)) or item.get_closest_marker("django_db")
    return bool(uses_database) or which == "sqlite"


# The PostgreSQL pass runs on two pytest-xdist workers (scripts/test: --dist loadfile), each with a
# control plane, Redis and Celery worker of its own. A module's tests stay together on one worker
# (its fixtures start once); the modules that bring a stack of their own (a Helm release, a
# benchmark's console) form one unit, so that two of them never run at once, and go first, being the
# longest. (pytest-xdist's own xdist_group marks do not hold under pytest 9: they rename nodes.)
STACKS_OF_THEIR_OWN = ("test_chart", "test_perf_bench", "test_load_bench", "test_node_bench")


def work_unit(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return "stacks" if Path(module).stem in STACKS_OF_THEIR_OWN else module


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ByModuleStacksTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ByModuleStacksTogether(config, log)


def named_apart(items) -> None:
    """Gives each test a node id of its own. Schemathesis names an operation's test by the operation
    (test_x[GET /api/v1/...]), but pytest 9 builds the node id from the function's name alone, so
    the 38 operations of tests/test_api_fuzz.py shared one id, and pytest-xdist, which sends tests
    to its workers by id, ran the first alone. A duplicate left stops the run."""
    counts = Counter(item.nodeid for item in items)
    for item in items:
        if counts[item.nodeid] > 1:
            item._id = item.parent.id.child(item.name)
    repeated = [nodeid for nodeid, n in Counter(item.nodeid for item in items).items() if n > 1]
    if repeated:
        raise pytest.UsageError(f"tests sharing a node id would not all run under pytest-xdist: {repeated}")


def pytest_collection_modifyitems(config, items):
    named_apart(items)
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the stacks first
        items.sort(key=lambda item: work_unit(item.nodeid) != "stacks")
    if not PASS:
        return  # a run of chosen tests (scripts/test --sqlite|--postgres ...) runs them all
    kept = [item for item in items if runs_in(item, PASS)]
    left = [item for item in items if not runs_in(item, PASS)]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept
        where = "the PostgreSQL pass" if PASS == "sqlite" else "the SQLite pass"
        why = "they need no database" if PASS == "postgres" else "they need the cluster or a stack of their own"
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"{len(left)} tests run in {where} alone: {why}; {len(kept)} run here.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_as(user):
    """An API client signed in as `user` (token-style, no CSRF)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def browser_as(user) -> Client:
    """A Django test client with `user`'s session."""
    client = Client()
    client.force_login(user)
    return client


def password_login(client, username: str, password: str) -> bool:
    """Logs in through the login form, as a browser does (the path django-axes throttles)."""
    return client.post(reverse("login"), {"username": username, "password": password}).status_code == 302


def wait_for(predicate, timeout: float = 30, interval: float = 0.2, what: str = "condition"):
    """Polls `predicate` until it returns something truthy; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def running(pid: int) -> bool:
    """Whether a process runs (a zombie that nobody reaped yet does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class ControlPlane:
    state: Path
    kubeconfig: Path

    @property
    def node(self) -> dict[str, str]:
        """The local node's facts (NODE_IP, HOST_IP, ...) when it runs one (as root), else {}."""
        path = self.state / "node.env"
        return dict(line.split("=", 1) for line in path.read_text().splitlines()) if path.exists() else {}

    def stop_apiserver(self) -> list[bytes]:
        """Kills kube-apiserver alone (etcd and the controller manager keep running); returns its
        command line for `start_apiserver`."""
        pid_file = self.state / "kube-apiserver.pid"
        pid = int(pid_file.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
        # SIGKILL: an abrupt stop, and a quick one (SIGTERM drains watches for a while).
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not running(pid), timeout=30, what="kube-apiserver to stop")
        return command

    def start_apiserver(self, command: list[bytes]) -> None:
        """Starts kube-apiserver again as it ran before, and waits until it answers."""
        log = (self.state / "kube-apiserver.log").open("ab")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        (self.state / "kube-apiserver.pid").write_text(str(process.pid))
        wait_for(lambda: api_answers("/version"), timeout=60, what="kube-apiserver to answer again")


def api_answers(path: str) -> bool:
    """Whether the API server answers `path` (is up; serves an API group)."""
    try:
        cluster.request("GET", path)
    except cluster.ClusterError:
        return False
    return True


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory):
    state = tmp_path_factory.mktemp("controlplane")
    started = subprocess.run(
        [ROOT / "scripts/controlplane/start.sh", state], capture_output=True, text=True, timeout=1800
    )
    if started.returncode != 0:
        pytest.fail(f"the local control plane did not start:\n{started.stderr[-3000:]}")
    kubeconfig = Path(started.stdout.strip().splitlines()[-1])
    settings.CLUSTER_SOURCE = ("kubeconfig", str(kubeconfig))
    cluster.reset_client()
    yield ControlPlane(state, kubeconfig)
    stopped = subprocess.run([ROOT / "scripts/controlplane/stop.sh", state], capture_output=True, text=True, timeout=60)
    if stopped.returncode != 0:  # a cluster left running would hold its network and ports until killed
        said = stopped.stderr[-3000:]
        print(f"\nscripts/controlplane/stop.sh failed ({stopped.returncode}):\n{said}", file=sys.stderr)


@pytest.fixture(scope="session")
def kubectl(control_plane):
    """Runs the real kubectl (built at the API server's version beside it) against the local control
    plane, as someone with cluster access would; returns its output."""
    built = subprocess.run([ROOT / "scripts/controlplane/build.sh"], capture_output=True, text=True, timeout=1800)
    binary = Path(built.stdout.strip().splitlines()[-1]) / "kubectl"

    def run(*args: str) -> str:
        done = subprocess.run(
            [binary, "--kubeconfig", control_plane.kubeconfig, *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


@pytest.fixture(scope="session")
def node_address(control_plane) -> str:
    """Where the cluster's gateways are reached: the local node's address, or loopback when the
    local cluster has no node (the console's fallback for a cluster without nodes)."""
    return control_plane.node.get("NODE_IP", "127.0.0.1")


@pytest.fixture
def node(control_plane) -> dict[str, str]:
    """The local node, for tests of what only pods can show; without one (not root) they are skipped."""
    if not control_plane.node:
        pytest.skip("the local cluster has no node (it gets one when the tests run as root), so no pod runs")
    return control_plane.node


# The flavors whose controller images the local node has (scripts/images), by the name
# scripts/node/start.sh gives their image in images.env.
LOCAL_FLAVORS = {"traefik": "TRAEFIK_IMAGE", "nginx-inc": "NGINX_INC_IMAGE"}


def skip_unless_the_node_runs(control_plane, flavor: str) -> None:
    """Skips, saying why, a test of a flavor whose controller image was not built here (the
    nginx-inc image needs its source archive, scripts/images/nginx-inc.sh)."""
    from tenants import demo

    if LOCAL_FLAVORS[flavor] not in demo.local_images(control_plane.state):
        pytest.skip(f"the node has no image of {flavor}'s controller: scripts/images/nginx-inc.sh says why")


def run_demo_backends(control_plane, namespace: str, names=("front-end", "catalogue"), replicas: int = 1) -> None:
    """Pods of the demo backend behind Services `names` (tenants/demo.py); waits until they serve."""
    from tenants import demo

    image = demo.local_images(control_plane.state)["DEMO_BACKEND_IMAGE"]
    for name in names:
        for manifest in demo.backend(namespace, name, image, replicas):
            cluster.apply(manifest)

    def serving():
        deployments = [cluster.get("apps/v1", "Deployment", name, namespace) for name in names]
        return all((d.get("status") or {}).get("readyReplicas") == replicas for d in deployments)

    wait_for(serving, timeout=90, what=f"the demo backends {', '.join(names)} to serve")


class RedisServer:
    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory)]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        wait_for(lambda: self._answers(client), timeout=20, what="redis-server")

    @staticmethod
    def _answers(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    # Settings come in under the CELERY_ namespace, so the override goes there too.
    celery_app.conf.CELERY_BROKER_URL = server.url
    yield server
    server.stop()


def test_database_url() -> str:
    """The URL of the database the tests run on, for the worker process to share."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Worker:
    """A real Celery worker process, stoppable and restartable by tests."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log, self.process = env, log, None

    def start(self):
        self.log.write_text("")
        command = [VENV_BIN / "celery", "-A", "console", "worker", "--loglevel", "INFO", "--concurrency", "2"]
        command += [
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{uuid.uuid4().hex[:6]}@%h",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for(lambda: " ready." in self.log.read_text() or self.process.poll() is not None, 60, what="worker")
        if self.process.poll() is not None:
            pytest.fail(f"the Celery worker exited:\n{self.log.read_text()[-3000:]}")

    def kill(self):
        """SIGKILL to the worker and its pool processes at once, as when a node dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker, redis_server, control_plane, tmp_path_factory):
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_server.url,
        "KUBECONFIG": str(control_plane.kubeconfig),
        "DJANGO_SETTINGS_MODULE": "console.settings",
    }
    proc = Worker(env, tmp_path_factory.mktemp("worker") / "worker.log")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def live_cluster(worker, transactional_db):
    """For integration tests: the real worker and cluster, a database the worker can see,
    and afterwards the namespaces the test's projects created are deleted."""
    yield
    selector = f"{cluster.MANAGED_BY}={cluster.FIELD_MANAGER}"
    for namespace in cluster.list_objects("v1", "Namespace", selector=selector):
        name = namespace["metadata"]["name"]
        if not namespace["metadata"].get("deletionTimestamp"):
            cluster.delete("v1", "Namespace", name)
        # The namespace controller waits out its pods' grace periods before it looks again, and the
        # next test of the same project name waits for the namespace to go: end the pods at once.
        with contextlib.suppress(cluster.NotFound):
            cluster.request("DELETE", f"/api/v1/namespaces/{name}/pods", query=[("gracePeriodSeconds", "0")])


@pytest.fixture
def cluster_calls(monkeypatch):
    """Every request this process makes to the API server, as (method, path), in order."""
    seen = []
    real = cluster.request

    def spy(method, path, *args, **kwargs):
        seen.append((method, path))
        return real(method, path, *args, **kwargs)

    monkeypatch.setattr(cluster, "request", spy)
    return seen


@pytest.fixture
def unique_name():
    """A project name no other test uses, so tests never see each other's namespaces."""
    return f"t-{uuid.uuid4().hex[:8]}"


PASSWORD = "a-long-test-password-1"


@pytest.fixture(autouse=True, scope="session")
def every_response_is_checked():
    """No response in the whole suite may carry secret data or inline script (tests/response_checks.py)."""
    original = Client.request

    def checked(self, **request):
        response = original(self, **request)
        response_checks.check(request.get("PATH_INFO", ""), response)
        return response

    Client.request = checked
    yield
    Client.request = original


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Tests create many accounts; a deliberately slow hasher would dominate their run time."""
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


@pytest.fixture
def make_user(db):
    """Creates an account through the service, with PASSWORD."""

    def make(username, platform_admin=False):
        return services.create_user(
            username=username, email=f"{username}@example.com", password=PASSWORD, platform_admin=platform_admin
        )

    return make


@pytest.fixture
def shipped_allowances(db):
    """The annotation allowances a data migration ships (the cloud load-balancer keys). A
    transactional test empties every table when it ends, migration data included, so the tests that
    need these install them again, the migration's own way."""
    from django.apps import apps

    import_module("gateways.migrations.0005_cloud_load_balancer_allowances").allow(apps, None)
    import_module("gateways.migrations.0009_drop_address_picking_allowances").drop(apps, None)


@pytest.fixture
def platform_admin(make_user):
    return make_user("root", platform_admin=True)


@pytest.fixture
def workspace(platform_admin):
    return services.create_workspace(name="ws-a", alias="Workspace A", admin=platform_admin, by=platform_admin)


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client


@pytest.fixture
def ready_project(live_cluster, workspace, unique_name):
    """A project whose namespace the worker has created in the local control plane."""
    from tenants.models import Project

    project = services.create_project(workspace=workspace, name=unique_name)
    wait_for(lambda: Project.objects.get(pk=project.pk).state == "Ready", what=f"project {unique_name} to be Ready")
    project.refresh_from_db()
    return project


def tls_secret_manifest(namespace: str, name: str, hosts: list[str], days: int = 30, with_key: bool = True) -> dict:
    """A kubernetes.io/tls Secret with a fresh self-signed certificate for `hosts`."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    register_secret_value(key_pem.decode())
    data = {"tls.crt": base64.b64encode(pem).decode(), "console-canary": base64.b64encode(CANARY.encode()).decode()}
    data["tls.key"] = base64.b64encode(key_pem).decode() if with_key else ""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def backend_service(namespace: str, name: str, port: int = 80, port_name: str = "http") -> dict:
    """A Service a tenant would have for their workload (there are no pods behind it here)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"app": name}, "ports": [{"name": port_name, "port": port, "targetPort": port}]},
    }


def give_load_balancer_address(namespace: str, ip: str) -> None:
    """The cloud controller's part: it writes the load balancer's address into the gateway Service's status."""
    from gateways.render import NAME

    status = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "namespace": namespace},
        "status": {"loadBalancer": {"ingress": [{"ip": ip}]}},
    }
    path = cluster.kind_of("v1", "Service").path(namespace, NAME) + "/status"
    query = [("fieldManager", "cloud-controller"), ("force", "true")]
    cluster.request("PATCH", path, body=status, query=query, content_type="application/apply-patch+yaml")


def run_benchmark(script: str, *args) -> str:
    """Runs a benchmark under bench/ (it starts its own stack); returns its report, failing on a non-zero exit."""
    run = subprocess.run(
        [VENV_BIN / "python", f"bench/{script}", *args], cwd=ROOT, capture_output=True, text=True, timeout=850
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    return run.stdout


# The Services (name, port, port name) project_with_gateway's routes send traffic to: a route's
# backend must be a Service of its project with that port.
PROJECT_SERVICES = [("front-end", 80, "http"), ("catalogue", 8080, "web"), ("greeter", 50051, "grpc"), ("web", 80)]


@pytest.fixture
def project_with_gateway(control_plane, make_user, platform_admin, workspace, unique_name):
    """A project (its namespace created directly, as the worker would) with an enabled gateway, the
    PROJECT_SERVICES and TLS secrets good-tls, keyless and opaque: alice admin, olga operator, vera viewer; and project
    <name>-hidden in another workspace. No worker runs: nothing queued is carried out."""
    for name in ("alice", "olga", "vera"):
        make_user(name)
        services.add_workspace_member(workspace, username=name, role="workspace-regular", by=platform_admin)
    alice = get_user_model().objects.get(username="alice")
    project = services.create_project(workspace=workspace, name=unique_name, by=alice)
    services.add_project_member(project, username="olga", role="operator", by=alice)
    services.add_project_member(project, username="vera", role="viewer", by=alice)
    from gateways.services import configure_gateway

    configure_gateway(project)
    namespace = project.namespace
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    for service in PROJECT_SERVICES:
        cluster.apply(backend_service(namespace, *service))
    cluster.apply(tls_secret_manifest(namespace, "good-tls", ["secure.example.com"]))
    cluster.apply(tls_secret_manifest(namespace, "keyless", ["secure.example.com"], with_key=False))
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "opaque", "namespace": namespace},
            "data": {"a": "Yg==", "console-canary": base64.b64encode(CANARY.encode()).decode()},
        }
    )
    bob = make_user("bob")
    other = services.create_workspace(name="ws-b", admin=bob, by=platform_admin)
    services.create_project(workspace=other, name=f"{unique_name}-hidden", by=bob)
    yield project
    cluster.delete("v1", "Namespace", namespace)


INGRESS_ROUTE_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "ingressroutes.traefik.io"},
    "spec": {
        "group": "traefik.io",
        "scope": "Namespaced",
        "names": {
            "kind": "IngressRoute",
            "plural": "ingressroutes",
            "singular": "ingressroute",
            "listKind": "IngressRouteList",
        },
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}


def crd_served(expected: bool) -> bool:
    from routes import live

    return live.ingress_routes_served(fresh=True) == expected


@pytest.fixture
def ingress_route_crd(control_plane):
    """Traefik's IngressRoute CRD, as a cluster running Traefik serves it: the local node installs
    Traefik's own; without a node a stand-in is installed for the test and removed after. The
    console's answer to "is it served?" is cached for a few seconds, so it is asked afresh."""
    if control_plane.node:
        wait_for(lambda: crd_served(True), what="Traefik's IngressRoute CRD to be served")
        yield
        return
    cluster.apply(INGRESS_ROUTE_CRD)
    wait_for(lambda: crd_served(True), what="the IngressRoute CRD to be served")
    yield
    cluster.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "ingressroutes.traefik.io")
    wait_for(lambda: crd_served(False), what="the IngressRoute CRD to be gone")


@pytest.fixture(scope="session")
def gateway_api_crds(control_plane):
    """The Gateway API's standard-channel CRDs, as the local node installs them (scripts/images/
    gateway-api-crds.sh, the version Traefik implements); without a node, installed here and left
    for the rest of the session."""
    if not control_plane.node:
        path = subprocess.run(
            [ROOT / "scripts" / "images" / "gateway-api-crds.sh"], check=True, capture_output=True, text=True
        ).stdout.strip()
        for crd in yaml.safe_load_all(Path(path).read_text()):
            if crd:
                cluster.apply(crd)
    wait_for(lambda: api_answers("/apis/gateway.networking.k8s.io/v1"), what="the Gateway API to be served")


# Browser tests: Playwright driving Debian's Chromium.

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
# Chromium on this closed network: no background connections, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def playwright():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are ordinary blocking calls, which Django must be told are fine.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(autouse=True)
def browser_tests_run_as_scripts_start(request):
    """Browser tests see what a newcomer sees: the console as `scripts/start` runs it, with DEBUG off
    as deployed, or on for tests marked `development` (`scripts/start --development`). pytest-django
    turns DEBUG off for every test; the marked ones get it back."""
    if "browser" not in request.fixturenames:
        yield
        return
    settings_fixture = request.getfixturevalue("settings")
    settings_fixture.DEBUG = request.node.get_closest_marker("development") is not None
    yield


@pytest.fixture
def demo_passwords(tmp_path):
    password_file = tmp_path / "demo-passwords"
    call_command("seed_demo", password_file=password_file)
    return dict(line.split(":", 1) for line in password_file.read_text().splitlines())


def log_in(page, base_url, username, password):
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator(".account .who")).to_have_text(username)
