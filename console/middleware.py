"""Response headers every page and API answer carries."""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Lets browsers run and style only what the console serves itself: no inline script, no CDN."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
