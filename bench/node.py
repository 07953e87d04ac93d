#!/usr/bin/env python
"""Through the controller: how long the local node takes to start, a gateway to be Ready, and a new
route to answer through it: through Traefik as an Ingress and through the Gateway API, and through
the F5 NGINX Ingress Controller (nginx-inc).

    .venv/bin/python bench/node.py            # 20 routes, one after another
    .venv/bin/python bench/node.py --small    # 3 routes (the test suite runs this)

Needs root (the local cluster runs a node only then). Starts its own stack with the node (Redis,
PostgreSQL, a Celery worker, gunicorn), gives a project the demo backend, enables a NodePort
Traefik gateway through the API and times it to Ready (1 of 1 replicas), then creates routes
through the API one after another and times each from the API's answer to its first 200 through
the gateway's node port; then switches the gateway to the Gateway API and does the same with as
many new routes, which become HTTPRoutes; then enables an nginx-inc gateway in a second project and
times it and its routes the same way. On each gateway it then creates 200 routes (20 with --small)
in one batch and times them to the last one's first 200, with the CPU time the controller spent.
Prints a table; exits non-zero when something never happened."""

import argparse
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.perf import Results, ms  # noqa: E402
from bench.stack import Stack, percentile, wait_until  # noqa: E402

TIMEOUT = 120
GATEWAY_PODS = "kubeconsole.io/gateway"


def through_gateway(address: str, port: int, host: str) -> bool:
    try:
        return requests.get(f"http://{address}:{port}/", headers={"Host": host}, timeout=2).status_code == 200
    except requests.RequestException:
        return False


class Outage(threading.Thread):
    """Asks one route every 50 ms until stopped (at most `limit` seconds) and keeps the longest
    gap between two answers (from one answer to the next, or to the end while none came): how
    long the route went unserved, give or take the 50 ms between questions."""

    def __init__(self, address: str, port: int, host: str, limit: float):
        super().__init__(daemon=True)
        self.target, self.limit, self.done = (address, port, host), limit, threading.Event()
        self.longest, self.asked, self.failed, self.failures = 0.0, 0, 0, Counter()

    def run(self):
        began = last_answer = time.monotonic()
        while not self.done.is_set() and time.monotonic() - began < self.limit:
            self.asked += 1
            answer = self.ask()
            if answer == 200:
                self.longest = max(self.longest, time.monotonic() - last_answer)
                last_answer = time.monotonic()
            else:
                self.failed += 1
                self.failures[answer] += 1
            time.sleep(0.05)
        if self.failed and self.failures:  # still unanswered at the end: the gap runs to it
            self.longest = max(self.longest, time.monotonic() - last_answer)

    def ask(self) -> int | str:
        """The answer's status, or the name of the error that stood in for one."""
        address, port, host = self.target
        try:
            return requests.get(f"http://{address}:{port}/", headers={"Host": host}, timeout=2).status_code
        except requests.RequestException as error:
            return type(error).__name__

    def stop(self) -> "Outage":
        self.done.set()
        self.join()
        return self


def gateway_ready(api: requests.Session, url: str) -> dict | None:
    gateway = api.get(url, timeout=5).json()
    ready = next((c for c in gateway["status"]["conditions"] if c["type"] == "Ready"), {})
    return gateway if ready.get("status") == "True" and gateway["status"]["ready_replicas"] >= 1 else None


def switched(namespace: str, count: int) -> bool:
    """Whether the first `count` routes are HTTPRoutes now, their IngressRoutes gone."""
    from console import cluster

    return all(
        cluster.get("gateway.networking.k8s.io/v1", "HTTPRoute", f"i{index}", namespace)
        and not cluster.get("traefik.io/v1alpha1", "IngressRoute", f"i{index}", namespace)
        for index in range(count)
    )


def rolled_out(namespace: str) -> bool:
    """Whether the controller's Deployment runs its new configuration alone (the old pod gone)."""
    from console import cluster
    from gateways.render import NAME

    deployment = cluster.get("apps/v1", "Deployment", NAME, namespace)
    status, wanted = deployment.get("status") or {}, deployment["spec"]["replicas"]
    return (
        status.get("observedGeneration", 0) >= deployment["metadata"]["generation"]
        and status.get("updatedReplicas") == status.get("readyReplicas") == status.get("replicas") == wanted
    )


def time_routes(results, api, base: str, where: tuple, prefix: str, count: int, title: str, project: str = "shop"):
    """Creates `count` routes through the API one after another and times each from the API's
    answer to its first 200 through the gateway."""
    address, port = where
    latencies = []
    for index in range(count):
        name = f"{prefix}{index}"
        host = f"{name}.example.com"
        body = {"name": name, "rules": [{"host": host, "paths": [{"path": "/", "service": "front-end", "port": 80}]}]}
        created = api.post(f"{base}/api/v1/projects/{project}/routes/", json=body, timeout=10)
        if created.status_code != 201:
            results.problem(f"route {name} was refused: {created.status_code} {created.text[:200]}")
            continue
        began = time.monotonic()
        deadline = began + TIMEOUT
        while not through_gateway(address, port, host):
            if time.monotonic() > deadline:
                results.problem(f"route {name} never answered through the gateway")
                break
            time.sleep(0.05)
        else:
            latencies.append(time.monotonic() - began)
    if latencies:
        results.add(title, f"route created -> first 200 ({len(latencies)} routes), p50", ms(percentile(latencies, 0.5)))
        results.add("", "p95", ms(percentile(latencies, 0.95)))
        results.add("", "max", ms(max(latencies)))


def controller_cpu_seconds(namespace: str) -> float:
    """CPU time the gateway's controller pods in `namespace` have used: their cgroups' cpuacct.usage
    (the node keeps its pods' cgroups under a root of its own, on this machine)."""
    from console import cluster

    pods = cluster.request("GET", f"/api/v1/namespaces/{namespace}/pods", query=[("labelSelector", GATEWAY_PODS)])
    total = 0
    for pod in pods["items"]:
        for usage in Path("/sys/fs/cgroup/cpuacct").glob(f"kube-console-*/kubepods*/**/pod{pod['metadata']['uid']}"):
            total += int((usage / "cpuacct.usage").read_text())
    return total / 1e9


def time_batch(results, api, base: str, where: tuple, project: str, count: int) -> None:
    """Creates `count` routes in one batch through the API and times it to the last one's first 200
    through the gateway, with the CPU time the controller spent taking them up."""
    address, port = where
    hosts = [f"b{index}.{project}.example.com" for index in range(count)]  # a host is one project's
    routes = [
        {"name": f"b{index}", "rules": [{"host": host, "paths": [{"path": "/", "service": "front-end", "port": 80}]}]}
        for index, host in enumerate(hosts)
    ]
    cpu = controller_cpu_seconds(project)
    began = time.monotonic()
    created = api.post(f"{base}/api/v1/projects/{project}/routes:batchCreate", json={"routes": routes}, timeout=60)
    if created.status_code != 201:
        results.problem(f"the batch of {count} routes was refused: {created.status_code} {created.text[:200]}")
        return
    deadline = began + TIMEOUT
    for host in hosts:  # in order: once one answers, the controller has most of the others too
        while not through_gateway(address, port, host):
            if time.monotonic() > deadline:
                results.problem(f"{host}, of the batch of {count} routes, never answered through the gateway")
                return
            time.sleep(0.05)
    results.add("", f"{count} routes in one batch -> the last one's first 200", f"{time.monotonic() - began:.1f} s")
    results.add("", "controller CPU time taking them up", f"{controller_cpu_seconds(project) - cpu:.1f} s")


def run_backend(namespace: str, image: str) -> None:
    from console import cluster
    from tenants import demo

    for manifest in demo.backend(namespace, "front-end", image):
        cluster.apply(manifest)
    wait_until(
        lambda: (cluster.get("apps/v1", "Deployment", "front-end", namespace).get("status") or {}).get("readyReplicas"),
        TIMEOUT,
        "the demo backend",
    )


def time_nginx_inc(results, stack, api: requests.Session, image: str, count: int, batch: int) -> None:
    """The same through an F5 NGINX Ingress Controller gateway, in a project of its own."""
    from django.contrib.auth import get_user_model

    from tenants import services
    from tenants.models import Project

    admin = get_user_model().objects.get(username="bench")
    project = services.create_project(workspace=Project.objects.get(name="shop").workspace, name="mart", by=admin)
    wait_until(lambda: Project.objects.get(pk=project.pk).state == "Ready", TIMEOUT, "the project's namespace")
    run_backend("mart", image)
    gateway_url = f"{stack.url}/api/v1/projects/mart/gateway/"
    stack.log("enabling an F5 NGINX Ingress Controller gateway")
    began = time.monotonic()
    api.put(gateway_url, json={"flavor": "nginx-inc", "access_mode": "NodePort"}, timeout=10).raise_for_status()
    wait_until(lambda: gateway_ready(api, gateway_url), TIMEOUT, "the nginx-inc gateway to be Ready")
    ready = f"{time.monotonic() - began:.1f} s"
    results.add("F5 NGINX gateway (NodePort)", "enabled through the API -> Ready, 1 of 1", ready)
    gateway = gateway_ready(api, gateway_url)
    where = gateway["status"]["addresses"][0], gateway["status"]["node_ports"]["http"]
    stack.log(f"{count} routes as Ingresses through NGINX, one after another")
    time_routes(results, api, stack.url, where, "n", count, "Route as Ingress through F5 NGINX", project="mart")
    time_batch(results, api, stack.url, where, "mart", batch)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="3 routes instead of 20")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/node.py: the local cluster runs a node only as root; nothing to measure here")
        return 0
    count, batch = (3, 20) if args.small else (20, 200)
    results = Results()
    with Stack(web_workers=2, node=True) as stack:
        results.add("Local cluster start (images cached)", "control plane and node", f"{stack.cluster_seconds:.1f} s")
        results.add("", "of which the node, to Ready", f"{stack.node_seconds:.1f} s")
        os.environ.update(stack.env)
        import django

        django.setup()
        from rest_framework.authtoken.models import Token

        from tenants import demo, services
        from tenants.models import Project

        admin = services.create_user(username="bench", password="bench-password-1", platform_admin=True)
        api = requests.Session()
        api.headers["Authorization"] = f"Token {Token.objects.create(user=admin).key}"
        workspace = services.create_workspace(name="bench", admin=admin, by=admin)
        project = services.create_project(workspace=workspace, name="shop", by=admin)
        wait_until(lambda: Project.objects.get(pk=project.pk).state == "Ready", TIMEOUT, "the project's namespace")
        images = demo.local_images(stack.dir / "controlplane")
        image = images["DEMO_BACKEND_IMAGE"]
        run_backend("shop", image)

        gateway_url = f"{stack.url}/api/v1/projects/shop/gateway/"
        stack.log("enabling a Traefik gateway")
        began = time.monotonic()
        answer = api.put(gateway_url, json={"flavor": "traefik", "access_mode": "NodePort"}, timeout=10)
        answer.raise_for_status()
        wait_until(lambda: gateway_ready(api, gateway_url), TIMEOUT, "the gateway to be Ready")
        results.add(
            "Traefik gateway (NodePort)",
            "enabled through the API -> Ready, 1 of 1",
            f"{time.monotonic() - began:.1f} s",
        )
        gateway = gateway_ready(api, gateway_url)
        address, port = gateway["status"]["addresses"][0], gateway["status"]["node_ports"]["http"]

        stack.log(f"{count} routes as Ingress (IngressRoutes), one after another")
        time_routes(results, api, stack.url, (address, port), "i", count, "Route as IngressRoute through Traefik")
        stack.log("switching the gateway to the Gateway API")
        outage = Outage(address, port, "i0.example.com", 3 * TIMEOUT)
        outage.start()
        began = time.monotonic()
        body = {"flavor": "traefik", "access_mode": "NodePort", "route_api": "gateway-api"}
        answer = api.put(gateway_url, json={**body, "generation": gateway["generation"]}, timeout=10)
        answer.raise_for_status()
        wait_until(lambda: switched("shop", count) and rolled_out("shop"), TIMEOUT, "the switch and the new controller")
        wait_until(
            lambda: all(through_gateway(address, port, f"i{index}.example.com") for index in range(count)),
            TIMEOUT,
            "every route to be served again, as HTTPRoutes",
        )
        results.add(
            "", f"switched to the Gateway API -> all {count} routes served again", f"{time.monotonic() - began:.1f} s"
        )
        outage.stop()
        results.add(
            "",
            f"a route asked every 50 ms through the switch: longest unanswered ({outage.failed}/{outage.asked} failed)",
            ms(outage.longest),
        )
        stack.log(f"{count} routes as HTTPRoutes, one after another")
        time_routes(results, api, stack.url, (address, port), "g", count, "Route as HTTPRoute through Traefik")
        time_batch(results, api, stack.url, (address, port), "shop", batch)
        if "NGINX_INC_IMAGE" in images:
            time_nginx_inc(results, stack, api, image, count, batch)
        else:
            results.problem("the node has no nginx-inc image: scripts/images/nginx-inc.sh says why")
    print()
    print(results.table())
    for problem in results.problems:
        print(f"PROBLEM: {problem}")
    return 1 if results.problems else 0


if __name__ == "__main__":
    sys.exit(main())
