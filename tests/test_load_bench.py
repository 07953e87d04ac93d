"""The load benchmark's short run: 50 users for 20 seconds against gunicorn, PostgreSQL, Redis,
Celery and the local control plane, all started by the benchmark itself. No 5xx, no lost update,
everything converged. The benchmark brings its own PostgreSQL, so it runs once per test command:
in the PostgreSQL pass."""

import re

import pytest
from django.db import connection

from tests.conftest import run_benchmark

pytestmark = pytest.mark.cluster


@pytest.mark.timeout(900)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs once per test command, in the PostgreSQL pass (it brings its own)"
)
def test_fifty_users_for_twenty_seconds_lose_nothing():
    report = run_benchmark("load.py", "--users", "50", "--duration", "20")
    assert re.search(r"^5xx: 0  lost updates: 0 ", report, re.MULTILINE), report
    assert int(re.search(r"requests: (\d+)", report).group(1)) > 100, report
