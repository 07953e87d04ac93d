"""What every page and API answer goes through: security headers, and a readable answer when the
Kubernetes API server cannot be reached during a request."""

import time
from contextvars import ContextVar

from django.conf import settings
from django.db import connection
from django.shortcuts import render

from console.cluster import ClusterError, ClusterUnavailable
from console.validators import is_ip_address

# The address of the client whose request is being answered, for the audit log; None outside a request.
request_address: ContextVar[str | None] = ContextVar("request_address", default=None)


class RequestAddressMiddleware:
    """Keeps the client's address (REMOTE_ADDR: the console trusts no forwarding header it cannot
    verify) for the audit log while the request is answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        address = request.META.get("REMOTE_ADDR", "")
        token = request_address.set(address if is_ip_address(address) else None)
        try:
            return self.get_response(request)
        finally:
            request_address.reset(token)


class ServerTimingMiddleware:
    """When CONSOLE_SERVER_TIMING is on, every answer says how long the server took and how many
    database queries it made, in a Server-Timing header (browsers show it beside the request;
    the benchmarks read it): `app;dur=12.3, db;dur=2.1;desc="8 queries"`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.SERVER_TIMING:
            return self.get_response(request)
        queries = {"count": 0, "seconds": 0.0}

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries["count"] += 1
                queries["seconds"] += time.perf_counter() - started

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            response = self.get_response(request)
        total = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = (
            f'app;dur={total:.1f}, db;dur={queries["seconds"] * 1000:.1f};desc="{queries["count"]} queries"'
        )
        return response


class ContentSecurityPolicyMiddleware:
    """Lets browsers run and style only what the console serves itself: no inline script, no CDN."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class ClusterErrorMiddleware:
    """A page that needed the cluster while it was unreachable (or refusing) answers with what
    happened in words, never a stack trace: a full page, or a dialog for htmx requests."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ClusterError):
            return None
        status = 503 if isinstance(exception, ClusterUnavailable) else 502
        context = {"message": exception.message}
        if getattr(request, "htmx", False):
            response = render(request, "partials/cluster_error.html", context, status=200)
            response["HX-Retarget"] = "#modal"
            response["HX-Reswap"] = "innerHTML"
            return response
        return render(request, "cluster_error.html", context, status=status)
