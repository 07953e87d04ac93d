"""The console's own metrics at `/metrics`, in Prometheus's text format, for the platform's
Prometheus: how far behind the workers are (the reconcile backlog by kind, the Celery queue) and
how their runs end (by kind and result, retries), and how long the last periodic pass took.

What the workers count lives in Redis, where every worker process and pod adds to the same
counters, and the web reads it when scraped; the backlog is counted in the database then. The
endpoint answers only with the bearer token CONSOLE_METRICS_TOKEN names (404 without one set),
ahead of the host check, since a scraper names the pod's address."""

import hmac
import logging

import redis
from django.conf import settings
from django.http import HttpResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from console import health

log = logging.getLogger(__name__)
PREFIX = "kubeconsole"
KEY = "kubeconsole:metrics"  # Redis hashes KEY:<counter> of {label values joined by SEP: count}
SEP = "|"
COUNTERS = {  # name: (help, label names)
    "reconcile_runs": ("Reconcile runs the workers ended, by kind and result.", ("kind", "result")),
    "task_retries": ("Reconcile runs the workers queued again after a failure, by task.", ("task",)),
}
GAUGES = {  # name: help; set by the last periodic pass
    "periodic_pass_seconds": "How long the last periodic pass (drift checks and requeues) took.",
    "periodic_pass_end_time_seconds": "When the last periodic pass ended, in seconds since the epoch.",
}


def count(name: str, labels: tuple[str, ...], amount: int = 1) -> None:
    """Adds to a counter of COUNTERS; a Redis that does not answer loses the count, not the run."""
    try:
        health.redis_client().hincrby(f"{KEY}:{name}", SEP.join(labels), amount)
    except redis.RedisError as error:
        log.warning("could not count %s %s: %s", name, labels, error)


def set_gauge(name: str, value: float) -> None:
    try:
        health.redis_client().hset(f"{KEY}:gauges", name, repr(float(value)))
    except redis.RedisError as error:
        log.warning("could not set %s: %s", name, error)


def run_ended(task, retval, state: str) -> None:
    """Counts a reconcile run by its kind and result: what the task returned (a run over many
    returns a count per result), or how Celery ended it (retry, ignored: waiting, error)."""
    from console.reconcile import kind_of_task

    kind = kind_of_task(task)
    if kind is None:
        return
    if isinstance(retval, dict):
        for result, times in retval.items():
            count("reconcile_runs", (kind, str(result)), int(times))
    elif isinstance(retval, str) and state == "SUCCESS":
        count("reconcile_runs", (kind, retval))
    else:
        count("reconcile_runs", (kind, {"RETRY": "retry", "IGNORED": "waiting"}.get(state, "error")))


class ConsoleCollector:
    """Reads the series when scraped: the backlog from the database, the rest from Redis."""

    def collect(self):
        from console.reconcile import backlog

        lagging = GaugeMetricFamily(
            f"{PREFIX}_reconcile_backlog",
            "Objects whose cluster state lags their last change (observed generation behind), by kind.",
            labels=["kind"],
        )
        for kind, number in backlog().items():
            lagging.add_metric([kind], number)
        yield lagging
        yield from self.from_redis()

    def from_redis(self):
        up = GaugeMetricFamily(f"{PREFIX}_broker_up", "Whether Redis, the workers' broker, answered the scrape.")
        client = health.redis_client()
        try:
            queue = client.llen(settings.CELERY_TASK_DEFAULT_QUEUE)
            counters = {name: client.hgetall(f"{KEY}:{name}") for name in COUNTERS}
            gauges = client.hgetall(f"{KEY}:gauges")
        except redis.RedisError as error:
            log.warning("metrics: Redis does not answer: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(f"{PREFIX}_celery_queue_length", "Tasks waiting in the workers' queue.", value=queue)
        for name, (description, labels) in COUNTERS.items():
            family = CounterMetricFamily(f"{PREFIX}_{name}", description, labels=list(labels))
            for joined, value in sorted(counters[name].items()):
                family.add_metric(joined.decode().split(SEP), int(value))
            yield family
        for name, description in GAUGES.items():
            if name.encode() in gauges:
                yield GaugeMetricFamily(f"{PREFIX}_{name}", description, value=float(gauges[name.encode()]))


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(ConsoleCollector())


def authorised(request) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), settings.CONSOLE_METRICS_TOKEN.encode())


class MetricsMiddleware:
    """Answers GET and HEAD of `/metrics` ahead of the other middleware: no session, no host check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != "/metrics" or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        if not settings.CONSOLE_METRICS_TOKEN:
            return HttpResponse("Metrics are not enabled: set CONSOLE_METRICS_TOKEN.\n", status=404)
        if not authorised(request):
            response = HttpResponse("A bearer token is needed.\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        response = HttpResponse(
            generate_latest(REGISTRY), content_type=CONTENT_TYPE_PLAIN_0_0_4
        )  # read by every Prometheus 2 and 3
        response["Cache-Control"] = "no-store"
        return response
