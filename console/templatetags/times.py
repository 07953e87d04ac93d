"""One way to show a moment everywhere: `{% include "partials/time.html" with value=... %}` renders
how long ago it was, with the exact time on hover; static/console.js turns the exact time into the
reader's own zone. Values are datetimes or the API server's ISO 8601 strings."""

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


def moment(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


@register.filter
def iso_time(value) -> str:
    found = moment(value)
    return found.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if found else ""


@register.filter
def exact_time(value) -> str:
    found = moment(value)
    return found.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if found else ""


@register.filter
def relative_time(value, now: datetime | None = None) -> str:
    """'just now', '3 minutes ago', '2 days, 4 hours ago'; 'in …' for a moment ahead (clocks differ)."""
    found = moment(value)
    if found is None:
        return ""
    now = now or timezone.now()
    seconds = (now - found).total_seconds()
    if abs(seconds) < 60:
        return "just now"
    if seconds < 0:
        return f"in {timesince(now, found)}"
    return f"{timesince(found, now)} ago"
