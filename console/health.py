"""Health answers for whatever watches the console (kubelet's probes, a load balancer).

`/healthz`: the process answers. `/readyz`: it can serve, its database and Redis answering, each
asked with a short timeout. Answered ahead of every other middleware, for GET and HEAD of exactly
these two paths: no session, no login, and no host check, since a probe names the pod's address,
which no ALLOWED_HOSTS lists. Nothing in the answer comes from a request.
"""

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse

PROBE_TIMEOUT_SECONDS = 2
_redis_clients: dict[str, redis.Redis] = {}


def redis_client() -> redis.Redis:
    url = settings.CELERY_BROKER_URL
    if url not in _redis_clients:
        _redis_clients[url] = redis.Redis.from_url(
            url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
        )
    return _redis_clients[url]


def database_problem() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure means not ready, in its own words
        return f"{type(error).__name__}: {error}"
    return ""


def redis_problem() -> str:
    try:
        redis_client().ping()
    except redis.RedisError as error:
        return f"{type(error).__name__}: {error}"
    return ""


def readiness() -> dict[str, str]:
    """{part: "ok" or what went wrong} for the database and Redis."""
    return {"database": database_problem() or "ok", "redis": redis_problem() or "ok"}


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        if request.path_info == "/healthz":
            return HttpResponse("ok\n", content_type="text/plain")
        if request.path_info == "/readyz":
            parts = readiness()
            return JsonResponse(parts, status=200 if set(parts.values()) == {"ok"} else 503)
        return self.get_response(request)
