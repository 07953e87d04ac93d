"""The web security baseline: login throttling, CSRF on forms and htmx requests, a strict
Content-Security-Policy, and production cookies that are Secure and HttpOnly."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tenants import permissions as perms
from tenants import services
from tenants.models import ProjectMembership
from tests.conftest import PASSWORD, ROOT, password_login

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def shop(make_user, platform_admin, workspace):
    for name in ("alice", "regular"):
        make_user(name)
        services.add_workspace_member(workspace, username=name, role=perms.WORKSPACE_REGULAR, by=platform_admin)
    alice = services.find_user("alice")
    return services.create_project(workspace=workspace, name="shop", by=alice)


def test_five_failed_logins_lock_that_user_out_from_that_address(shop):
    browser = Client()
    for _ in range(5):
        assert not password_login(browser, "alice", "wrong-password")
    locked = browser.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in browser.session
    token = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD})
    assert "token" not in token.json()
    # Someone else, from the same address, is not affected.
    assert password_login(Client(), "regular", PASSWORD)


def test_a_successful_login_resets_the_count(shop):
    browser = Client()
    for _ in range(4):
        assert not password_login(browser, "alice", "wrong-password")
    assert password_login(Client(), "alice", PASSWORD)
    for _ in range(4):
        assert not password_login(browser, "alice", "wrong-password")
    assert password_login(Client(), "alice", PASSWORD)


def test_htmx_posts_need_the_csrf_header_the_page_carries(shop, django_user_model):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.get(username="alice"))
    page = browser.get(reverse("project-members", args=["shop"])).content.decode()
    # The page hands htmx the token as a header for every request it makes.
    headers = re.search(r"<body hx-headers='([^']+)'", page)
    token = json.loads(headers.group(1))["X-CSRFToken"]

    url = reverse("project-member-invite", args=["shop"])
    refused = browser.post(url, {"username": "regular", "role": "viewer"}, **HTMX)
    assert refused.status_code == 403
    assert not ProjectMembership.objects.filter(user__username="regular").exists()

    accepted = browser.post(url, {"username": "regular", "role": "viewer"}, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert accepted.status_code == 200
    assert ProjectMembership.objects.filter(user__username="regular", role="viewer").exists()


def test_session_authenticated_api_writes_need_the_csrf_token(shop, django_user_model):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(django_user_model.objects.get(username="alice"))
    response = api.post("/api/v1/projects/shop/members/", {"username": "regular", "role": "viewer"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not ProjectMembership.objects.filter(user__username="regular").exists()


@pytest.mark.parametrize("url", ["/login/", "/api/v1/workspaces/", "/api/docs/", "/api/schema/"])
def test_every_answer_carries_a_strict_content_security_policy(admin_client, url):
    policy = admin_client.get(url).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy and "http" not in policy


def test_the_api_docs_load_their_script_from_a_url_not_inline(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert '<script src="/api/docs/?script=' in page
    assert admin_client.get("/api/docs/?script=").headers["Content-Type"].startswith("application/javascript")


def test_production_cookies_are_secure_and_http_only():
    env = {
        **os.environ,
        "CONSOLE_MODE": "production",
        "DJANGO_SECRET_KEY": "x" * 64,
        "DJANGO_ALLOWED_HOSTS": "console.example.com",
        "DJANGO_SETTINGS_MODULE": "console.settings",
    }
    names = ["SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "DEBUG"]
    script = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "DEBUG": False,
    }


def test_a_page_that_needs_the_unreachable_cluster_answers_in_words(rf):
    from console.cluster import ClusterUnavailable
    from console.middleware import ClusterErrorMiddleware

    middleware = ClusterErrorMiddleware(lambda request: None)
    error = ClusterUnavailable("The Kubernetes API server is unreachable: connection refused")
    page = middleware.process_exception(rf.get("/projects/shop/routes/"), error)
    assert page.status_code == 503 and "The cluster is not answering" in page.content.decode()
    htmx = rf.get("/projects/shop/routes/", HTTP_HX_REQUEST="true")
    htmx.htmx = True
    dialog = middleware.process_exception(htmx, error)
    assert dialog["HX-Retarget"] == "#modal" and "connection refused" in dialog.content.decode()
    assert middleware.process_exception(rf.get("/"), ValueError("not ours")) is None


def test_server_timing_is_off_unless_asked_for_and_then_tells_time_and_queries(admin_client, settings):
    assert "Server-Timing" not in admin_client.get("/workspaces/").headers
    settings.SERVER_TIMING = True
    timing = admin_client.get("/workspaces/").headers["Server-Timing"]
    match = re.fullmatch(r'app;dur=([0-9.]+), db;dur=([0-9.]+);desc="([0-9]+) queries"', timing)
    assert match and float(match[1]) >= float(match[2]) and int(match[3]) >= 2, timing


def test_pages_link_a_favicon_the_console_has(client, settings):
    """Browsers asked for /favicon.ico on every page and got a 404; the base page names one."""
    from django.contrib.staticfiles import finders

    page = client.get(reverse("login")).content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert finders.find(href.removeprefix(settings.STATIC_URL))
