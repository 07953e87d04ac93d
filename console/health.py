"""Health answers for whatever watches the console (kubelet's probes, a load balancer).

`/healthz`: the process answers. `/readyz`: it can serve, its database and Redis answering, each
asked with a short timeout. Answered ahead of every other middleware, for GET and HEAD of exactly
these two paths: no session, no login, and no host check, since a probe names the pod's address,
which no ALLOWED_HOSTS lists. Anyone may ask, so the answer says only which part is unavailable;
what went wrong (hosts, users, the server's words) goes to the log.
"""

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse

PROBE_TIMEOUT_SECONDS = 2
log = logging.getLogger(__name__)
_redis_clients: dict[str, redis.Redis] = {}


def redis_client() -> redis.Redis:
    url = settings.CELERY_BROKER_URL
    if url not in _redis_clients:
        _redis_clients[url] = redis.Redis.from_url(
            url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
        )
    return _redis_clients[url]


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure means not ready
        log.warning("readiness: the database does not answer", exc_info=True)
        return False
    return True


def redis_answers() -> bool:
    try:
        redis_client().ping()
    except redis.RedisError:
        log.warning("readiness: Redis does not answer", exc_info=True)
        return False
    return True


def readiness() -> dict[str, str]:
    """{part: "ok" or "unavailable"} for the database and Redis."""
    return {
        "database": "ok" if database_answers() else "unavailable",
        "redis": "ok" if redis_answers() else "unavailable",
    }


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
