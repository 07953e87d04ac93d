"""What every page and API answer goes through: security headers, and a readable answer when the
Kubernetes API server cannot be reached during a request."""

from django.conf import settings
from django.shortcuts import render

from console.cluster import ClusterError, ClusterUnavailable


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
