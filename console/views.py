from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect


@login_required
def home(request):
    return redirect("workspace-list")


def finish(request, url: str):
    """Ends a dialog or a wizard: htmx follows HX-Redirect, a plain form post a redirect."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
