"""The performance benchmark's small run (bench/perf.py --small): every benchmark works against
gunicorn, PostgreSQL, Redis, Celery, the local control plane and kubectl, all started by the
benchmark itself. It fails when the console gets something wrong (a route not converging, a write
in the idle periodic pass, a query count that grows with the routes); speed is reported, not
asserted. It brings its own PostgreSQL, so it runs once per test command: in the PostgreSQL pass."""

import re

import pytest
from django.db import connection

from tests.conftest import run_benchmark

pytestmark = pytest.mark.cluster


@pytest.mark.timeout(900)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs once per test command, in the PostgreSQL pass (it brings its own)"
)
def test_every_benchmark_runs_and_the_console_stays_correct(tmp_path):
    results = tmp_path / "RESULTS.md"
    run_benchmark("perf.py", "--small", "--results", str(results))
    table = results.read_text()
    for benchmark in ("Single route", "Bulk", "Idle resync", "Pages and API", "Memory"):
        assert f"| {benchmark}" in table, table
    assert re.search(r"\| writes seen by the API server \| 0 \|", table), table
    assert re.search(r"\| objects queued again \| 0 \|", table), table
    assert re.search(r"\| kubectl apply --server-side \| \d+\.\d s \|", table), table
    for label in ("route list page", "route detail page", "API GET routes/?limit=50"):
        counts = {}
        for role in ("platform admin", "workspace admin", "project admin", "operator", "viewer"):
            small, big = re.search(
                rf"\| {re.escape(label)} as {role}: queries \(small project -> big\) \| (\d+) -> (\d+) \|", table
            ).groups()
            assert small == big, table
            counts[role] = int(big)
        # Every role pays what the platform admin pays, give or take two queries, and at most 10.
        assert all(count <= min(counts["platform admin"] + 2, 10) for count in counts.values()), counts
    assert "cores" in table and "Django" in table, table
