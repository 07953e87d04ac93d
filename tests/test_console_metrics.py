"""The console's own metrics at /metrics: off without a token, the bearer token alone lets a
scraper in (a signed-in admin is not enough), and the series say what the workers have yet to do
and how their runs ended, from the database and the real Redis and worker."""

import re

import pytest
import redis
from django.db.models import F
from django.test import Client

from console import metrics
from console.reconcile import resync
from tenants import services
from tenants.models import Project
from tests.conftest import wait_for

TOKEN = "scrape-token-0123456789abcdef"


def series(text: str, name: str) -> dict[str, float]:
    """{labels as written: value} of one series in Prometheus's text format."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(\{{.*\}})? (\S+)", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def scrape(client: Client, token: str = TOKEN, host: str = "10.0.0.7"):
    """What a scraper gets, naming the pod's address as the host (which no allowed host lists)."""
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST=host)


@pytest.fixture
def metrics_on(settings, redis_server):
    settings.CONSOLE_METRICS_TOKEN = TOKEN
    settings.CELERY_BROKER_URL = redis_server.url
    counted = redis.Redis.from_url(redis_server.url)
    counted.delete(*counted.keys(f"{metrics.KEY}:*"), "celery")  # what earlier tests counted and queued
    return settings


def test_metrics_are_off_without_a_token_and_answer_only_the_token(client, admin_client, settings):
    settings.CONSOLE_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.CONSOLE_METRICS_TOKEN = TOKEN
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    for wrong in ("", "scrape-token", TOKEN + "x", "ümlaut" * 10, TOKEN.upper()):
        assert scrape(client, wrong).status_code == 401, wrong
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert admin_client.get("/metrics").status_code == 401  # a session is not a scraper's token
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code != 200


@pytest.mark.django_db(transaction=True)
def test_the_backlog_and_the_queue_follow_the_rows_and_the_waiting_tasks(client, metrics_on, workspace):
    answer = scrape(client)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain; version=0.0.4")
    text = answer.content.decode()
    assert series(text, "kubeconsole_broker_up") == {"": 1.0}
    assert series(text, "kubeconsole_reconcile_backlog") == {
        '{kind="Project"}': 0.0,
        '{kind="Gateway"}': 0.0,
        '{kind="Route"}': 0.0,
    }
    assert series(text, "kubeconsole_celery_queue_length") == {"": 0.0}

    # This pass runs no worker (it needs the cluster), so the project's reconcile waits in the queue.
    project = services.create_project(workspace=workspace, name="metered")
    text = scrape(client).content.decode()
    assert series(text, "kubeconsole_reconcile_backlog")['{kind="Project"}'] == 1.0
    assert series(text, "kubeconsole_celery_queue_length")[""] >= 1.0

    Project.objects.filter(pk=project.pk).update(observed_generation=F("generation"))
    assert series(scrape(client).content.decode(), "kubeconsole_reconcile_backlog")['{kind="Project"}'] == 0.0


def test_without_redis_the_database_series_still_answer(client, settings, db):
    settings.CONSOLE_METRICS_TOKEN = TOKEN
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    text = scrape(client).content.decode()
    assert series(text, "kubeconsole_broker_up") == {"": 0.0}
    assert '{kind="Route"}' in series(text, "kubeconsole_reconcile_backlog")


@pytest.mark.cluster
def test_the_workers_runs_and_the_periodic_pass_are_counted(client, metrics_on, ready_project):
    def runs() -> dict[str, float]:
        return series(scrape(client).content.decode(), "kubeconsole_reconcile_runs_total")

    # The project's namespace was applied by the real worker, which counted the run in Redis.
    wait_for(lambda: runs().get('{kind="Project",result="applied"}', 0) >= 1, what="the project's run counted")
    resync.apply()
    text = scrape(client).content.decode()
    assert 0 < series(text, "kubeconsole_periodic_pass_seconds")[""] < 60
    assert series(text, "kubeconsole_periodic_pass_end_time_seconds")[""] > 1.7e9
    assert series(text, "kubeconsole_reconcile_backlog")['{kind="Project"}'] == 0.0
