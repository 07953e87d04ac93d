from django.http import HttpResponse
from django.shortcuts import redirect


def finish(request, url: str):
    """Ends a dialog or a wizard: htmx follows HX-Redirect, a plain form post a redirect."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
