"""Every page shows a moment one way: how long ago, with the exact time (UTC, made local in the
browser) on hover; condition times from the API server and the database's datetimes alike."""

from datetime import UTC, datetime, timedelta

from django.template.loader import render_to_string

from console.templatetags.times import exact_time, iso_time, relative_time

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_api_server_times_and_datetimes_read_the_same():
    assert iso_time("2026-12-07T11:57:00Z") == iso_time(datetime(2026, 12, 7, 11, 57, tzinfo=UTC))
    assert exact_time("2026-12-07T11:57:00Z") == "2026-12-07 11:57:00 UTC"
    assert relative_time("2026-12-07T11:57:00Z", now=NOW) == "3\xa0minutes ago"
    assert relative_time(NOW - timedelta(days=2, hours=4), now=NOW) == "2\xa0days, 4\xa0hours ago"
    assert relative_time(NOW - timedelta(seconds=20), now=NOW) == "just now"


def test_what_is_not_a_time_shows_a_dash_not_an_error():
    assert render_to_string("partials/time.html", {"value": ""}).strip() == "—"
    assert render_to_string("partials/time.html", {"value": "not a time"}).strip() == "—"
    assert render_to_string("partials/time.html", {"value": None}).strip() == "—"


def test_the_partial_carries_the_exact_time_for_the_hover_and_the_browser():
    html = render_to_string("partials/time.html", {"value": "2025-12-07T11:57:00Z"})
    assert 'datetime="2025-12-07T11:57:00Z"' in html and 'title="2025-12-07 11:57:00 UTC"' in html
    assert "ago</time>" in html
