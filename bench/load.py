#!/usr/bin/env python
"""Load: concurrent signed-in users listing, creating, editing and deleting routes through the API
of a running console (gunicorn, PostgreSQL, Redis, Celery, the local control plane), then waiting
until every route has converged and checking that no update was lost.

    .venv/bin/python bench/load.py [--users 50] [--duration 300] [--projects 10]

Prints throughput, latency percentiles per operation, 5xx answers, lost updates and how long the
cluster took to converge; exits non-zero when any 5xx, lost update or unconverged route remains."""

import argparse
import os
import random
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Stack, percentile, wait_until  # noqa: E402

OPERATIONS = ["list", "create", "edit", "delete"]
WEIGHTS = [4, 2, 3, 1]


class User(threading.Thread):
    """One tenant working through the API: its own routes in its project, its own expectations."""

    def __init__(self, index: int, base: str, token: str, project: str, deadline: float, seed: int):
        super().__init__(daemon=True)
        self.index, self.base, self.project, self.deadline = index, base, project, deadline
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.random = random.Random(seed)
        self.routes: dict[str, dict] = {}  # name -> {"generation": n, "value": last annotation written}
        self.deleted: set[str] = set()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[int, int] = defaultdict(int)
        self.failures: list[str] = []
        self.counter = 0

    def url(self, suffix: str = "") -> str:
        return f"{self.base}/api/v1/projects/{self.project}/routes/{suffix}"

    def call(self, operation: str, method: str, url: str, **kwargs) -> requests.Response:
        started = time.perf_counter()
        response = self.session.request(method, url, timeout=60, **kwargs)
        self.latencies[operation].append(time.perf_counter() - started)
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.failures.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
        return response

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            operation = self.random.choices(OPERATIONS, WEIGHTS)[0]
            if operation != "list" and operation != "create" and not self.routes:
                operation = "create"
            getattr(self, operation)()

    def list(self) -> None:
        self.call("list", "GET", self.url(), params={"limit": 50})

    def create(self) -> None:
        self.counter += 1
        name = f"u{self.index}-r{self.counter}"
        rule = {"host": f"{name}.load.example.com", "paths": [{"path": "/", "service": "web", "port": 80}]}
        body = {"name": name, "rules": [rule], "annotations": {"v": "0"}}
        response = self.call("create", "POST", self.url(), json=body)
        if response.status_code == 201:
            self.routes[name] = {"generation": response.json()["generation"], "value": "0"}

    def edit(self) -> None:
        name = self.random.choice(sorted(self.routes))
        value = str(int(self.routes[name]["value"]) + 1)
        headers = {"If-Match": f'"{self.routes[name]["generation"]}"'}
        body = {"annotations": {"v": value}}
        response = self.call("edit", "PATCH", self.url(f"{name}/"), json=body, headers=headers)
        if response.status_code == 200:
            self.routes[name] = {"generation": response.json()["generation"], "value": value}
        elif response.status_code == 409:  # someone else's change: reload and keep going
            fresh = self.call("list", "GET", self.url(f"{name}/")).json()
            self.routes[name]["generation"] = fresh["generation"]

    def delete(self) -> None:
        name = self.random.choice(sorted(self.routes))
        response = self.call("delete", "DELETE", self.url(f"{name}/"))
        if response.status_code == 202:
            del self.routes[name]
            self.deleted.add(name)


def seed(stack: Stack, users: int, projects: int) -> list[tuple[str, str]]:
    """Creates the projects (with gateways) and the users; returns (token, project) per user."""
    os.environ.update(stack.env)
    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from gateways import services as gateway_services
    from gateways.models import Gateway
    from tenants import services
    from tenants.models import Project

    admin = services.create_user(username="bench-admin", password="bench-admin-password-1", platform_admin=True)
    workspace = services.create_workspace(name="bench", admin=admin, by=admin)
    names = [f"load-{i}" for i in range(projects)]
    for name in names:
        services.create_project(workspace=workspace, name=name, by=admin)
    wait_until(
        lambda: (
            Project.objects.filter(name__in=names).count() == projects
            and all(p.state == "Ready" for p in Project.objects.filter(name__in=names))
        ),
        120,
        "namespaces",
    )
    for project in Project.objects.filter(name__in=names):
        gateway_services.configure_gateway(project, by=admin)
    wait_until(lambda: all(g.in_sync for g in Gateway.objects.filter(project__name__in=names)), 120, "gateways")
    accounts = []
    for index in range(users):
        username = f"tenant-{index}"
        services.create_user(username=username, password="tenant-password-1")
        project = Project.objects.get(name=names[index % projects])
        services.add_workspace_member(workspace, username=username, role="workspace-regular", by=admin)
        services.add_project_member(project, username=username, role="operator", by=admin)
        token = Token.objects.create(user=services.find_user(username))
        accounts.append((token.key, project.name))
    return accounts


def converge(expected: dict[str, dict[str, str]], deleted: set[tuple[str, str]], timeout: float) -> tuple[float, list]:
    """Runs one periodic pass, waits until every route is in sync and matches the cluster; returns
    the seconds it took and the lost updates (routes whose stored or applied value is not the last
    one written, deleted routes still present)."""
    from console import cluster
    from console.reconcile import resync
    from routes.models import Route

    started = time.monotonic()
    resync.apply()

    def settled() -> bool:
        routes = Route.objects.all()
        return all(r.in_sync and (r.condition("Synced") or {}).get("status") == "True" for r in routes) and not any(
            r.deletion_requested for r in routes
        )

    try:
        wait_until(settled, timeout, "every route to converge")
    except TimeoutError:
        pass
    seconds = time.monotonic() - started
    lost = []
    stored = {(r.project.name, r.name): r for r in Route.objects.select_related("project")}
    for project, routes in expected.items():
        for name, value in routes.items():
            route = stored.get((project, name))
            if route is None or route.annotations.get("v") != value:
                lost.append(f"{project}/{name}: stored {route and route.annotations}, expected {value}")
                continue
            live = cluster.get("networking.k8s.io/v1", "Ingress", name, project)
            if not route.in_sync or (live or {}).get("metadata", {}).get("annotations", {}).get("v") != value:
                lost.append(f"{project}/{name}: cluster has {live and live['metadata'].get('annotations')}")
    for project, name in deleted:
        if (project, name) in stored or cluster.get("networking.k8s.io/v1", "Ingress", name, project):
            lost.append(f"{project}/{name}: deleted, still present")
    return seconds, lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--converge-timeout", type=float, default=300)
    args = parser.parse_args()

    with Stack(web_workers=args.web_workers) as stack:
        stack.log(f"seeding {args.projects} projects with gateways and {args.users} users")
        accounts = seed(stack, args.users, args.projects)
        deadline = time.monotonic() + args.duration
        users = [User(i, stack.url, token, project, deadline, seed=i) for i, (token, project) in enumerate(accounts)]
        stack.log(f"{args.users} users working for {args.duration:.0f} s")
        started = time.monotonic()
        for user in users:
            user.start()
        for user in users:
            user.join()
        elapsed = time.monotonic() - started
        expected = defaultdict(dict)
        deleted = set()
        for user in users:
            for name, state in user.routes.items():
                expected[user.project][name] = state["value"]
            deleted |= {(user.project, name) for name in user.deleted}
        stack.log("waiting for the cluster to converge")
        converge_seconds, lost = converge(expected, deleted, args.converge_timeout)

    latencies = defaultdict(list)
    statuses = defaultdict(int)
    failures = []
    for user in users:
        for operation, values in user.latencies.items():
            latencies[operation].extend(values)
        for code, count in user.statuses.items():
            statuses[code] += count
        failures.extend(user.failures)
    total = sum(statuses.values())
    server_errors = sum(count for code, count in statuses.items() if code >= 500)
    print(f"users: {args.users}  duration: {elapsed:.1f} s  requests: {total}  throughput: {total / elapsed:.1f} req/s")
    print(f"{'operation':<10}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for operation in OPERATIONS:
        values = latencies[operation]
        row = [percentile(values, q) * 1000 for q in (0.5, 0.95, 0.99)] + [max(values, default=0) * 1000]
        print(f"{operation:<10}{len(values):>8}" + "".join(f"{value:>10.0f}" for value in row))
    print("statuses: " + ", ".join(f"{code}: {count}" for code, count in sorted(statuses.items())))
    routes = sum(len(r) for r in expected.values())
    print(f"5xx: {server_errors}  lost updates: {len(lost)}  routes at the end: {routes}  deleted: {len(deleted)}")
    print(f"converged {converge_seconds:.1f} s after the load stopped")
    for line in (failures + lost)[:20]:
        print("  " + line)
    return 1 if server_errors or lost else 0


if __name__ == "__main__":
    sys.exit(main())
