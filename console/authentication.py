"""API tokens that expire (CONSOLE_TOKEN_DAYS after they were issued) and go with a password change
or a disabled account (tenants/signals.py), where DRF's never expire."""

from datetime import timedelta

from axes.helpers import get_client_ip_address, get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def expires(token: Token):
    return token.created + timedelta(days=settings.CONSOLE_TOKEN_DAYS)


def expired(token: Token) -> bool:
    return expires(token) <= timezone.now()


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed("This token has expired; ask for a new one at /api/v1/auth/token/.")
        return user, token


def failure_limit(request, credentials) -> int:
    """django-axes' limit for the login page and the token endpoint. Axes counts failures per
    username and address and per address (AXES_LOCKOUT_PARAMETERS) and compares the larger count
    with one limit; this makes it 5 for a username from one address and 20 for one address across
    usernames, so that an address spraying a password over many accounts is locked out too."""
    ip_address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    attempts = AccessAttempt.objects.filter(username=get_client_username(request, credentials), ip_address=ip_address)
    pair = attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0
    return (
        settings.AXES_FAILURES_PER_USERNAME
        if pair >= settings.AXES_FAILURES_PER_USERNAME
        else (settings.AXES_FAILURES_PER_ADDRESS)
    )
