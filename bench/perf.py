#!/usr/bin/env python
"""Performance: the console side by side with `kubectl apply --server-side` on the same API server.

    .venv/bin/python bench/perf.py            # the full run: 200 single routes, 2,000 in bulk, 10,000 for pages
    .venv/bin/python bench/perf.py --small    # a quick run of every benchmark (the test suite runs this)

Starts its own stack (the local control plane, Redis, PostgreSQL, Celery workers, gunicorn), then
measures single-route latency, bulk convergence against kubectl and a one-client floor, one idle
periodic pass, page and API server times with their query counts, and peak RSS. Prints a table and
writes it to bench/RESULTS.md (the full run) with the machine's core count and the versions. Exits
non-zero when the console got something wrong (a route not converged, a write in the idle pass, a
query count growing with the routes); missed speed targets are reported, not failed."""

import argparse
import cProfile
import json
import os
import platform
import pstats
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import (  # noqa: E402
    ROOT,
    Stack,
    children_cpu_seconds,
    cpu_seconds_by_program,
    peak_rss_mb,
    percentile,
    wait_until,
)


@dataclass(frozen=True)
class Sizes:
    single: int
    bulk_projects: int
    routes_per_project: int
    page_project_routes: int
    total_routes: int
    page_requests: int
    post_threads: int
    scale_projects: int
    scale_routes_per_project: int


BENCH_PASSWORD = "bench-password-1"
READER_PASSWORD = "quiet-lantern-58"  # not like the readers' names, which the validators refuse
FULL = Sizes(200, 200, 10, 500, 10_000, 200, 8, 1_000, 20)
SMALL = Sizes(10, 4, 5, 60, 300, 20, 4, 8, 10)
PER_ROUTE_GROWTH = 1.2  # the scale point's time per route, at most this times the bulk run's


@dataclass
class Row:
    benchmark: str
    measure: str
    value: str
    target: str = ""
    met: bool | None = None


class Results:
    def __init__(self):
        self.rows: list[Row] = []
        self.problems: list[str] = []

    def add(self, benchmark, measure, value, target="", met=None):
        self.rows.append(Row(benchmark, measure, value, target, met))
        print(f"    {benchmark}: {measure} = {value}" + (f" (target {target})" if target else ""), flush=True)

    def problem(self, message: str):
        self.problems.append(message)
        print(f"PROBLEM: {message}", flush=True)

    def table(self) -> str:
        lines = ["| benchmark | measure | value | target | met |", "|---|---|---|---|---|"]
        for row in self.rows:
            met = "" if row.met is None else ("yes" if row.met else "**no**")
            lines.append(f"| {row.benchmark} | {row.measure} | {row.value} | {row.target} | {met} |")
        return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# The cluster side: a watch on the console's Ingresses, and the API server's own request counts


class IngressWatch(threading.Thread):
    """Notes when each of the console's Ingresses is first seen in the API server, by (namespace, name)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: dict[tuple[str, str], float] = {}
        self.stopping = False  # set when the stack is about to stop
        self.changed = threading.Condition()
        self.ready = threading.Event()

    def run(self):
        try:
            self.follow()
        except Exception as error:  # noqa: BLE001 - the stack going away at the end ends the watch
            if not self.stopping:
                print(f"the Ingress watch ended: {error!r}", file=sys.stderr)

    def follow(self):
        from kubernetes import client, watch

        from console import cluster

        api = client.NetworkingV1Api(cluster.api_client())
        selector = f"{cluster.MANAGED_BY}={cluster.FIELD_MANAGER}"
        version = api.list_ingress_for_all_namespaces(label_selector=selector, limit=1).metadata.resource_version
        self.ready.set()
        while True:
            stream = watch.Watch().stream(
                api.list_ingress_for_all_namespaces,
                label_selector=selector,
                resource_version=version,
                timeout_seconds=3600,
                _preload_content=False,
            )
            for event in stream:
                now = time.monotonic()
                metadata = event["raw_object"]["metadata"]
                version = metadata.get("resourceVersion", version)
                if event["type"] in ("ADDED", "MODIFIED"):
                    with self.changed:
                        self.seen.setdefault((metadata["namespace"], metadata["name"]), now)
                        self.changed.notify_all()

    def wait_for(self, keys: set, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not keys <= self.seen.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True


WRITE_VERBS = {"APPLY", "PATCH", "POST", "PUT", "DELETE", "DELETECOLLECTION"}


def api_server_writes() -> Counter:
    """Writes the API server has served to the kinds the console writes (not status, not leases), by
    verb and resource. Events and Nodes the console only reads: the scheduler's events about pods no
    node runs are written all along."""
    from console import cluster

    plurals = {kind.plural for kind in cluster.KINDS.values()} - {"events", "nodes"}
    response = cluster.api_client().call_api(
        "/metrics", "GET", auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True
    )
    total = Counter()
    for line in response.data.decode().splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(part.split("=", 1) for part in line[line.index("{") + 1 : line.rindex("}")].split(","))
        labels = {key: value.strip('"') for key, value in labels.items()}
        if labels.get("verb") in WRITE_VERBS and labels.get("resource") in plurals and not labels.get("subresource"):
            total[f"{labels['verb']} {labels['resource']}"] += int(float(line.rsplit(" ", 1)[1]))
    return total


# Seeding: projects with gateways and a backend Service, an API token


def seed_projects(names: list[str], admin, workspace) -> None:
    from console import cluster
    from gateways import services as gateway_services
    from gateways.models import Gateway
    from tenants import services
    from tenants.models import Project

    for name in names:
        services.create_project(workspace=workspace, name=name, by=admin)
    projects = Project.objects.filter(name__in=names)
    wait_until(lambda: all(p.state == "Ready" for p in projects.all()), 600, "namespaces")
    for project in projects:
        gateway_services.configure_gateway(project, by=admin)
        cluster.apply(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": project.namespace},
                "spec": {"ports": [{"name": "http", "port": 80}], "selector": {"app": "web"}},
            }
        )
    wait_until(
        lambda: all(g.in_sync for g in Gateway.objects.filter(project__name__in=names)), 600, "gateways to apply"
    )


def settle_gateways(stack: Stack) -> None:
    """Waits out the looks a worker takes at each new gateway until its controller is ready (about a
    minute each, and longer for 201 gateways at once): no controller runs in the benchmark's
    node-less cluster, and the looks would otherwise run in the middle of the measurements. Done
    when the workers hold no task, scheduled or running, twice in a row."""
    from console.celery import app
    from console.reconcile import OBSERVE_DELAYS

    stack.log(f"waiting at least {sum(OBSERVE_DELAYS)} s for the gateways' follow-up looks to end")
    time.sleep(sum(OBSERVE_DELAYS))
    inspect = app.control.inspect(timeout=2)

    def idle() -> bool:
        held = [inspect.scheduled() or {}, inspect.active() or {}, inspect.reserved() or {}]
        return not any(tasks for answer in held for tasks in answer.values())

    wait_until(lambda: idle() and idle(), 600, "the workers to finish the gateways' looks")


def route_body(name: str, project: str) -> dict:
    rule = {"host": f"{name}.{project}.bench.example.com", "paths": [{"path": "/", "service": "web", "port": 80}]}
    return {"name": name, "rules": [rule], "annotations": {"team": "bench"}}


class Api:
    def __init__(self, base: str, token: str):
        self.base = base
        self.local = threading.local()
        self.token = token

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers["Authorization"] = f"Token {self.token}"
        return self.local.session

    def create_route(self, project: str, name: str) -> float:
        """POSTs a route; returns the monotonic time of the answer."""
        response = self.session().post(
            f"{self.base}/api/v1/projects/{project}/routes/", json=route_body(name, project), timeout=120
        )
        if response.status_code != 201:
            raise RuntimeError(f"creating {project}/{name}: {response.status_code} {response.text[:300]}")
        return time.monotonic()

    def create_routes(self, project: str, names: list[str]) -> None:
        """POSTs a project's routes in one batchCreate request."""
        body = {"routes": [route_body(name, project) for name in names]}
        response = self.session().post(
            f"{self.base}/api/v1/projects/{project}/routes:batchCreate", json=body, timeout=300
        )
        if response.status_code != 201:
            raise RuntimeError(
                f"creating {len(names)} routes in {project}: {response.status_code} {response.text[:300]}"
            )


# The benchmarks


def single_route_latency(results: Results, api: Api, watch: IngressWatch, project: str, count: int) -> None:
    """Routes created one after another; each waits to be seen before the next is created."""
    latencies = []
    for i in range(count):
        name = f"single-{i}"
        answered = api.create_route(project, name)
        if not watch.wait_for({(project, name)}, 30):
            results.problem(f"single route {name} never appeared in the API server")
            return
        latencies.append(watch.seen[(project, name)] - answered)
    title = f"Single route ({count} created one after another)"
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    results.add(title, "API answer -> Ingress watched, p50", ms(p50), "<= 25 ms", p50 <= 0.025)
    results.add(title, "p95", ms(p95), "<= 60 ms", p95 <= 0.06)
    results.add(title, "max", ms(max(latencies)))


def routes_synced(projects: list[str]) -> int:
    from django.db.models import F

    from routes.models import Route

    return Route.objects.filter(project__name__in=projects, observed_generation__gte=F("generation")).count()


def bulk_console(results: Results, api: Api, watch: IngressWatch, projects: list[str], per_project: int, threads: int):
    """Creates `per_project` routes in each project through the API, a batchCreate request per
    project from several client threads; returns the table's title and the seconds until all are
    applied and Synced."""
    names = [f"bulk-{i}" for i in range(per_project)]
    wanted = [(project, name) for project in projects for name in names]
    cpu_before = cpu_seconds_by_program()
    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda project: api.create_routes(project, names), projects))
    accepted = time.monotonic() - started
    if not watch.wait_for(set(wanted), 1800):
        results.problem(f"only {len(set(wanted) & watch.seen.keys())} of {len(wanted)} bulk Ingresses appeared")
    wait_until(lambda: routes_synced(projects) == len(wanted), 600, "every bulk route to be in sync")
    seconds = time.monotonic() - started
    cpu = cpu_seconds_by_program() - cpu_before
    from routes.models import Route

    unsynced = [
        r.name
        for r in Route.objects.filter(project__name__in=projects)
        if (r.condition("Synced") or {}).get("status") != "True"
    ]
    if unsynced:
        results.problem(f"{len(unsynced)} bulk routes are not Synced, e.g. {unsynced[:3]}")
    title = f"Bulk ({len(wanted)} routes, {len(projects)} projects)"
    results.add(title, f"API accepted all ({len(projects)} batchCreate requests)", f"{accepted:.1f} s")
    results.add(title, "console: first POST -> all applied and Synced", f"{seconds:.1f} s")
    results.add(title, "console: CPU seconds by program over that time", cpu_summary(cpu))
    return title, seconds


def scale_point(results: Results, api: Api, watch: IngressWatch, stack: Stack, sizes: Sizes, bulk_per_route: float):
    """Ten times the bulk run's routes in five times its projects, created the same way: the time per
    route against the bulk run's."""
    from tenants.models import Workspace

    projects = [f"scale-{i}" for i in range(sizes.scale_projects)]
    workspace = Workspace.objects.get(name="bench")
    admin = workspace.created_by
    started = time.monotonic()
    seed_projects(projects, admin, workspace)
    stack.log(f"seeded {len(projects)} projects with gateways in {time.monotonic() - started:.0f} s")
    if sizes is FULL:
        settle_gateways(stack)
    stack.log(f"scale: {len(projects) * sizes.scale_routes_per_project} routes")
    title, seconds = bulk_console(results, api, watch, projects, sizes.scale_routes_per_project, sizes.post_threads)
    per_route = seconds / (len(projects) * sizes.scale_routes_per_project)
    growth = per_route / bulk_per_route
    results.add(
        title,
        "time per route, against the bulk run's",
        f"{per_route * 1000:.2f} ms against {bulk_per_route * 1000:.2f} ms: {growth:.2f}x",
        f"<= {PER_ROUTE_GROWTH}x",
        growth <= PER_ROUTE_GROWTH,
    )


def cpu_summary(used: Counter) -> str:
    """The programs that used most CPU, with their seconds: where a phase's time went."""
    top = [(name, seconds) for name, seconds in used.most_common(7) if seconds >= 0.05]
    return ", ".join(f"{name} {seconds:.1f}" for name, seconds in top) + f" (all {sum(used.values()):.1f})"


def rendered_copies(projects: list[str], prefix: str) -> list[dict]:
    """The bulk routes' manifests as the renderer produces them, moved into namespaces of their own
    and labelled as the benchmark's rather than the console's."""
    from routes import render
    from routes import spec as route_spec
    from routes.models import Route

    copies = []
    index = {name: i for i, name in enumerate(projects)}
    routes = Route.objects.filter(project__name__in=projects).with_rules().select_related("project", "gateway")
    for route in routes:
        for manifest in render.manifests(route_spec.from_route(route), route.gateway, route.owner, False):
            manifest["metadata"]["namespace"] = f"{prefix}-{index[route.project.name]}"
            manifest["metadata"]["labels"] = {"bench.example.com/by": prefix, "bench.example.com/of": route.owner}
            copies.append(manifest)
    return copies


def create_namespaces(prefix: str, count: int) -> None:
    from console import cluster

    for index in range(count):
        cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{prefix}-{index}"}})


def kubectl_apply(stack: Stack, manifests: list[dict]) -> float:
    path = stack.dir / "kubectl-manifests.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}))
    cpu_before, children_before = cpu_seconds_by_program(), children_cpu_seconds()
    started = time.monotonic()
    subprocess.run(
        [stack.kubectl, "apply", "--server-side", "--force-conflicts", "-f", path],
        env=stack.env,
        check=True,
        capture_output=True,
    )
    seconds, used = time.monotonic() - started, cpu_seconds_by_program() - cpu_before
    used["kubectl"] += children_cpu_seconds() - children_before  # kubectl has ended: not in /proc
    return seconds, used


def floor_apply(manifests: list[dict]) -> float:
    """One Python client (the kubernetes client the console uses) applying each manifest in turn."""
    from console import cluster

    started = time.monotonic()
    for manifest in manifests:
        cluster.apply(manifest)
    return time.monotonic() - started


def bulk_comparison(results: Results, stack: Stack, projects: list[str], title: str, console_seconds: float) -> None:
    create_namespaces("kubectl", len(projects))
    create_namespaces("floor", len(projects))
    kubectl_seconds, kubectl_cpu = kubectl_apply(stack, rendered_copies(projects, "kubectl"))
    floor_seconds = floor_apply(rendered_copies(projects, "floor"))
    results.add(title, "kubectl apply --server-side", f"{kubectl_seconds:.1f} s")
    results.add(title, "kubectl: CPU seconds by program", cpu_summary(kubectl_cpu))
    results.add(title, "floor: one client applying in a loop", f"{floor_seconds:.1f} s")
    to_kubectl, to_floor = console_seconds / kubectl_seconds, console_seconds / floor_seconds
    results.add(title, "console / kubectl", f"{to_kubectl:.2f}x", "<= 1.0x", to_kubectl <= 1.0)
    results.add(title, "console / floor", f"{to_floor:.2f}x", "<= 1.2x", to_floor <= 1.2)


def quiet_cluster(seconds: float = 2, timeout: float = 60) -> Counter:
    """The API server's write counts once it has served no write for `seconds`: the cluster's own
    controllers catch up after a bulk load (the service-account controller gives each new namespace
    its default ServiceAccount), and those writes are not the pass's."""
    deadline = time.monotonic() + timeout
    writes = api_server_writes()
    while time.monotonic() < deadline:
        time.sleep(seconds)
        now = api_server_writes()
        if now == writes:
            return now
        writes = now
    return writes  # never quiet: the pass's measure shows what kept writing


def idle_resync(results: Results, routes: int) -> None:
    """One periodic pass with everything in sync, in a process of its own as a worker runs it: its
    wall time, its API requests by verb, what it queued and the memory it needed."""
    writes_before = quiet_cluster()
    answer = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "idle_pass.py")],
        env=os.environ,
        check=True,
        capture_output=True,
        text=True,
    )
    measured = json.loads(answer.stdout.strip().splitlines()[-1])
    seconds, calls, queued = measured["seconds"], measured["requests"], measured["queued"]
    time.sleep(3)  # anything the pass queued would be written by now
    writes = api_server_writes() - writes_before
    title = f"Idle resync ({routes} routes in sync)"
    results.add(title, "wall time", f"{seconds:.2f} s", "< 2 s", seconds < 2)
    results.add(title, "API requests by verb", ", ".join(f"{verb} {n}" for verb, n in sorted(calls.items())) or "none")
    lists = max((n for (verb, n) in calls.items() if verb.startswith("LIST")), default=0)
    results.add(title, "list calls per kind (most)", str(lists), "a handful", lists <= 5)
    results.add(title, "objects queued again", str(sum(queued.values())), "0", not any(queued.values()))
    total = sum(writes.values())
    results.add(title, "writes seen by the API server", str(total), "0", total == 0)
    peak = measured["peak_rss_mb"]
    results.add(title, "peak RSS of the process running the pass", f"{peak:.0f} MB", "< 200 MB", peak < 200)
    if total or any(queued.values()):
        seen = ", ".join(f"{write} {n}" for write, n in sorted(writes.items())) or "none"
        results.problem(f"the idle pass queued {queued} and the API server saw these writes: {seen}")


def seed_rows(project, count: int, like) -> None:
    """Stored routes shaped like `like` (a reconciled route), for the page measurements."""
    from routes.models import HostClaim, Route, RoutePath, RouteRule

    rule, path = like.rules.first(), like.rules.first().paths.first()
    fields = {f: getattr(like, f) for f in ("conditions", "annotations", "urls", "generation", "observed_generation")}
    routes = Route.objects.bulk_create(
        Route(project=project, gateway=like.gateway, name=f"page-{i}", **fields) for i in range(count)
    )
    rules = RouteRule.objects.bulk_create(
        RouteRule(route=r, position=0, host=f"{r.name}.{project.name}.pages.example.com", protocol=rule.protocol)
        for r in routes
    )
    RoutePath.objects.bulk_create(
        RoutePath(rule=r, position=0, path=path.path, service=path.service, port_number=path.port_number) for r in rules
    )
    HostClaim.objects.bulk_create(
        HostClaim(
            route_id=r.route_id,
            project=project,
            ingress_class=like.gateway.ingress_class,
            host=r.host,
            path="/",
            claimed_at=like.created,
        )
        for r in rules
    )


SERVER_TIMING = re.compile(r'app;dur=([0-9.]+), db;dur=[0-9.]+;desc="([0-9]+) queries"')


def server_times(session: requests.Session, url: str, count: int) -> tuple[list[float], int]:
    """Server time of `count` GETs of `url` as gunicorn reports it (the Server-Timing header) and the
    most database queries one of them made."""
    times, queries = [], 0
    for _ in range(count):
        response = session.get(url, timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        server_ms, made = SERVER_TIMING.match(response.headers["Server-Timing"]).groups()
        times.append(float(server_ms) / 1000)
        queries = max(queries, int(made))
    return times, queries


def profile(url: str, count: int, user, **headers) -> None:
    """Where the time of `url` goes, in this process: the functions taking most time, and the queries."""
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    queries = []

    def note(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    profiler = cProfile.Profile()
    with connection.execute_wrapper(note):
        for _ in range(count):
            profiler.runcall(client.get, url, **headers)
    print(f"--- profile of GET {url}, {count} requests")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    print("\n".join(f"    {sql[:160]}" for sql in queries[: len(queries) // count]))


def signed_in(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/login/", timeout=30)
    answer = session.post(
        f"{base}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        timeout=30,
    )
    if "sessionid" not in session.cookies:
        raise RuntimeError(f"could not sign in as {username}: {answer.status_code}")
    return session


def pages(results: Results, stack: Stack, admin, projects: tuple[str, str], sizes: Sizes, profiling: bool):
    """Server times of the route list, a route's page and the API list in a project of many routes
    among many more, and their query counts against a small project's, as each role."""
    from django.contrib.auth import get_user_model

    from routes.models import Route
    from tenants.models import Project

    big_project, small_project = projects  # the small one keeps fewer routes than a page shows
    like = Route.objects.filter(project__name=big_project).order_by("pk").first()
    big = Project.objects.get(name=big_project)
    seed_rows(big, sizes.page_project_routes - big.routes.count(), like)
    others = list(Project.objects.exclude(name__in=projects).filter(gateway__enabled=True))
    missing = sizes.total_routes - Route.objects.count()
    for index, project in enumerate(others):
        share = missing // len(others) + (1 if index < missing % len(others) else 0)
        if share > 0:
            seed_rows(project, share, like)
    total = Route.objects.count()
    settle_database()
    title = f"Pages and API ({sizes.page_project_routes} routes in the project, {total} in all)"
    small_route = Route.objects.filter(project__name=small_project).order_by("pk").first().name
    for role, username in readers(admin, big.workspace, projects):
        measure_pages(
            results,
            stack,
            title,
            (role, username),
            sizes.page_requests,
            (big_project, like.name),
            (small_project, small_route),
        )
        if profiling:
            profile(f"/projects/{big_project}/routes/", 20, get_user_model().objects.get(username=username))


# Who reads the pages: the platform admin, and one user of each role that sees the projects.
READER_ROLES = {
    "platform admin": None,
    "workspace admin": ("workspace", "workspace-admin"),
    "project admin": ("project", "admin"),
    "operator": ("project", "operator"),
    "viewer": ("project", "viewer"),
}


def readers(admin, workspace, projects) -> list[tuple[str, str]]:
    """(role, username) for every role the pages are measured as; the users made once."""
    from tenants import services
    from tenants.models import Project

    found = []
    for role, grant in READER_ROLES.items():
        if grant is None:
            found.append((role, admin.username))
            continue
        username = "bench-" + role.replace(" ", "-")
        services.create_user(username=username, password=READER_PASSWORD)
        scope, granted = grant
        services.add_workspace_member(
            workspace, username=username, role=granted if scope == "workspace" else "workspace-regular", by=admin
        )
        if scope == "project":
            for project in Project.objects.filter(name__in=projects):
                services.add_project_member(project, username=username, role=granted, by=admin)
        found.append((role, username))
    return found


PAGE_TARGETS = {"route list page": 0.04, "route detail page": None, "API GET routes/?limit=50": 0.06}
MOST_QUERIES = 10


def measure_pages(results: Results, stack: Stack, title: str, reader, count: int, big, small) -> None:
    """The route list, a route's page and the API list as `username`: server-time p50/p95 in the big
    project, and the queries there against the small project's."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    role, username = reader
    token = Token.objects.get_or_create(user=get_user_model().objects.get(username=username))[0].key
    browser = signed_in(stack.url, username, BENCH_PASSWORD if role == "platform admin" else READER_PASSWORD)
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    measured = [
        ("route list page", browser, "/projects/{}/routes/"),
        ("route detail page", browser, "/projects/{}/routes/{}/"),
        ("API GET routes/?limit=50", api, "/api/v1/projects/{}/routes/?limit=50"),
    ]
    for label, session, url in measured:
        big_url, small_url = url.format(*big), url.format(*small)
        server_times(session, stack.url + big_url, 2 * stack.web_workers)  # every web worker warm
        times, queries = server_times(session, stack.url + big_url, count)
        _, small_queries = server_times(session, stack.url + small_url, 3)
        p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
        target = PAGE_TARGETS[label]
        results.add(title, f"{label} as {role}: p50", ms(p50))
        met = p95 < target if target else None
        results.add(title, f"{label} as {role}: p95", ms(p95), f"< {target * 1000:.0f} ms" if target else "", met)
        results.add(
            title,
            f"{label} as {role}: queries (small project -> big)",
            f"{small_queries} -> {queries}",
            f"constant, <= {MOST_QUERIES}",
            queries == small_queries and queries <= MOST_QUERIES,
        )
        if queries != small_queries:
            results.problem(
                f"{label} as {role} makes {small_queries} queries for a small project and {queries} for a big one"
            )


def settle_database() -> None:
    """After a bulk load, as a DBA would: fresh planner statistics and the dirty pages written out, so
    that autovacuum and a checkpoint do not run in the middle of the measurements."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def memory(results: Results, stack: Stack) -> None:
    worker, web = peak_rss_mb(stack.workers), peak_rss_mb([stack.web])
    results.add(
        "Memory (peak RSS during the runs)", "Celery worker process", f"{worker:.0f} MB", "< 200 MB", worker < 200
    )
    results.add("Memory (peak RSS during the runs)", "gunicorn web process", f"{web:.0f} MB", "< 200 MB", web < 200)


def versions(stack: Stack) -> str:
    import celery
    import django
    import kubernetes

    kubectl = subprocess.run(
        [stack.kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True, env=stack.env
    ).stdout
    kubectl_version = json.loads(kubectl or "{}").get("clientVersion", {}).get("gitVersion", "?")
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
        f"Python {platform.python_version()}, Django {django.get_version()}, Celery {celery.__version__}, "
        f"kubernetes client {kubernetes.__version__}, kube-apiserver and kubectl {kubectl_version}; "
        f"{stack.web_workers} gunicorn workers, {stack.celery_workers} Celery worker(s) x {stack.celery_concurrency}, "
        "PostgreSQL with fsync off (scripts/postgres.sh, as in the tests)"
    )


def write_results(path: Path, results: Results, machine: str, sizes_name: str) -> None:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(
        "# Benchmark results\n\n"
        f"`bench/perf.py` ({sizes_name} run), {when}.\n\n"
        f"Machine and versions: {machine}.\n\n"
        f"{results.table()}\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a quick run of every benchmark")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--celery-concurrency", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="print where the page and API time goes")
    parser.add_argument("--no-pages", action="store_true", help="leave out the pages (a quicker look at the rest)")
    parser.add_argument("--results", type=Path, help="where to write the table (default: bench/RESULTS.md, full run)")
    args = parser.parse_args()
    sizes = SMALL if args.small else FULL
    results = Results()
    with Stack(web_workers=args.web_workers, celery_concurrency=args.celery_concurrency) as stack:
        os.environ.update(stack.env, DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver")
        import django

        django.setup()
        from rest_framework.authtoken.models import Token

        from routes.models import Route
        from tenants import services

        admin = services.create_user(username="bench", password=BENCH_PASSWORD, platform_admin=True)
        token = Token.objects.create(user=admin).key
        workspace = services.create_workspace(name="bench", admin=admin, by=admin)
        projects = [f"bulk-{i}" for i in range(sizes.bulk_projects)]
        stack.log(f"seeding {len(projects) + 1} projects with gateways")
        seed_projects(["single", *projects], admin, workspace)
        if not args.small:  # the small run's numbers mean nothing; it proves the benchmarks work
            settle_gateways(stack)
        watch = IngressWatch()
        watch.start()
        watch.ready.wait(30)
        api = Api(stack.url, token)
        stack.log(f"single-route latency: {sizes.single} routes")
        single_route_latency(results, api, watch, "single", sizes.single)
        bulk_routes = sizes.bulk_projects * sizes.routes_per_project
        stack.log(f"bulk: {bulk_routes} routes")
        title, console_seconds = bulk_console(
            results, api, watch, projects, sizes.routes_per_project, sizes.post_threads
        )
        stack.log("bulk: kubectl and the floor")
        bulk_comparison(results, stack, projects, title, console_seconds)
        stack.log("idle resync")
        idle_resync(results, bulk_routes + sizes.single)
        scale_point(results, api, watch, stack, sizes, console_seconds / bulk_routes)
        memory(results, stack)
        stack.log("idle resync at scale")
        idle_resync(results, Route.objects.count())
        if not args.no_pages:
            stack.log("pages and API")
            pages(results, stack, admin, (projects[0], projects[1]), sizes, args.profile)
        machine = versions(stack)
        watch.stopping = True
    print()
    print(f"Machine and versions: {machine}")
    print(results.table())
    target = args.results or (None if args.small or args.no_pages else ROOT / "bench" / "RESULTS.md")
    if target:
        write_results(target, results, machine, "small" if args.small else "full")
    for problem in results.problems:
        print(f"PROBLEM: {problem}")
    return 1 if results.problems else 0


if __name__ == "__main__":
    sys.exit(main())
