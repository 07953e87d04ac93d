"""The suite-wide response check catches what it is there to catch."""

import base64

import pytest
from django.http import HttpResponse, JsonResponse

from tests.response_checks import CANARY, problems

CLEAN_PAGE = '<html><body hx-headers=\'{"X-CSRFToken": "t"}\'><script src="/static/console.js"></script></body></html>'


def test_a_clean_page_and_json_pass():
    assert problems("/projects/", HttpResponse(CLEAN_PAGE)) == []
    assert problems("/api/v1/projects/", JsonResponse({"name": "shop"})) == []
    assert problems("/p/", HttpResponse('<script type="application/json" id="d">{}</script>')) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (CANARY, "secret data"),
        (base64.b64encode(CANARY.encode()).decode(), "secret data"),
        ("-----BEGIN PRIVATE KEY-----", "private key"),
        ("<script>alert(1)</script>", "inline script"),
        ('<button onclick="go()">', "inline event handler"),
        ('<div style="color: red">', "inline style"),
    ],
)
def test_leaks_and_inline_code_are_caught(body, problem):
    found = problems("/projects/shop/", HttpResponse(body))
    assert any(problem in entry for entry in found), found


def test_json_with_secret_data_is_caught_too():
    assert problems("/api/v1/projects/shop/secrets/", JsonResponse({"tls.key": CANARY}))
