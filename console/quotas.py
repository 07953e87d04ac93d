"""Limits a platform sets (CONSOLE_QUOTA_* in the environment, settings.CONSOLE_QUOTAS), in one
place: the services enforce them with a message that says which limit and how to get under it,
and the project page shows them as used/allowed."""

from django.conf import settings

PROJECTS_PER_SELF_PROVISIONER = "projects_per_self_provisioner"
ROUTES_PER_PROJECT = "routes_per_project"
RULES_PER_ROUTE = "rules_per_route"
GATEWAY_REPLICAS = "gateway_replicas"


def limit(name: str) -> int:
    return settings.CONSOLE_QUOTAS[name]


def over(name: str, used: int, adding: int = 1) -> bool:
    """Whether `adding` more to `used` would pass the limit."""
    return used + adding > limit(name)
