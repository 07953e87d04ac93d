"""The node benchmark's small run (bench/node.py --small): the local cluster with its node starts, a
Traefik gateway and an F5 NGINX one enabled through the API become Ready, and routes created through
the API answer through their node ports; the run fails when any of it never happens. Speed is reported, not
asserted. It brings its own stack and PostgreSQL, so it runs once per test command: in the
PostgreSQL pass."""

import re

import pytest
from django.db import connection

from tests.conftest import run_benchmark

pytestmark = pytest.mark.cluster


@pytest.mark.timeout(900)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs once per test command, in the PostgreSQL pass (it brings its own)"
)
def test_the_node_benchmark_runs_through_the_controller(node):
    report = run_benchmark("node.py", "--small")
    assert re.search(r"\| of which the node, to Ready \| \d+\.\d s \|", report), report
    assert re.search(r"\| enabled through the API -> Ready, 1 of 1 \| \d+\.\d s \|", report), report
    # Routes as IngressRoutes, new ones after the switch as HTTPRoutes; then an F5 NGINX gateway's.
    for kind in ("IngressRoute through Traefik", "HTTPRoute through Traefik", "Ingress through F5 NGINX"):
        assert re.search(
            rf"\| Route as {kind} \| route created -> first 200 \(3 routes\), p50 \| \d+\.\d ms \|", report
        ), report
    batches = re.findall(r"\| 20 routes in one batch -> the last one's first 200 \| \d+\.\d s \|", report)
    assert len(batches) == 2 and len(re.findall(r"\| controller CPU time taking them up \| \d+\.\d s \|", report)) == 2
    nginx_ready = r"\| F5 NGINX gateway \(NodePort\) \| enabled through the API -> Ready, 1 of 1 \| \d+\.\d s \|"
    assert re.search(nginx_ready, report), report
    assert re.search(r"\| switched to the Gateway API -> all 3 routes served again \| \d+\.\d s \|", report), report
    outage = r"\| a route asked every 50 ms through the switch: longest unanswered \(\d+/\d+ failed\) \| \d+\.\d ms \|"
    assert re.search(outage, report), report
