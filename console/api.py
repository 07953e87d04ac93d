"""Shared pieces of the JSON API: how service errors become HTTP answers."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import filters, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from console.cluster import ClusterError, ClusterUnavailable
from console.validators import is_number

# Error codes that mean "this clashes with something that exists" (or with a newer copy): 409, not 400.
CONFLICT_CODES = {"unique", "not_empty", "stale"}


class Pagination(LimitOffsetPagination):
    """DRF's ?limit=&offset=, bounded: a larger limit gives 500 items, and an offset is clamped
    so the database never receives a number it cannot hold (schemathesis sent 10**21)."""

    max_limit = 500
    max_offset = 2**31 - 1

    def get_offset(self, request):
        return min(super().get_offset(request), self.max_offset)


def _codes(error: DjangoValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors}
    return {e.code for e in error.error_list}


def exception_handler(exc, context):
    """DRF's handler, plus: a service's Django ValidationError answers 400 with the messages keyed
    by field (409 for name conflicts, non-empty deletes and edits of a stale copy); a cluster that
    cannot be reached answers 503, one that refuses 502, both in words."""
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        code = status.HTTP_409_CONFLICT if _codes(exc) & CONFLICT_CODES else status.HTTP_400_BAD_REQUEST
        return Response(body, status=code)
    if isinstance(exc, ClusterError):
        code = (
            status.HTTP_503_SERVICE_UNAVAILABLE if isinstance(exc, ClusterUnavailable) else status.HTTP_502_BAD_GATEWAY
        )
        return Response({"detail": f"{exc.message} Nothing was changed; try again shortly."}, status=code)
    if isinstance(exc, ObjectDoesNotExist):
        # Deleted by someone else (or the worker) while this request was on its way.
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return Response({"detail": str(exc) or "You may not do this."}, status=status.HTTP_403_FORBIDDEN)
    return drf_exception_handler(exc, context)


def valid(serializer_class, request, **kwargs) -> dict:
    """The request's data as `serializer_class` validates it; a 400 naming each bad field otherwise."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def expected_generation(request, data: dict) -> int | None:
    """The generation the client edited: `generation` in the body, else an If-Match ETag (as the
    object's answers carry it). None: the client did not say, and the edit is not checked."""
    if data.get("generation") is not None:
        return data["generation"]
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    digits = header.removeprefix("W/").strip('"')
    if not is_number(digits):
        raise DjangoValidationError({"generation": 'If-Match must be an ETag this API returned, such as "3".'})
    return int(digits)


class QuerySetSearch(filters.SearchFilter):
    """DRF's ?search=, answered by the queryset's own search(), the one the pages use too."""

    def filter_queryset(self, request, queryset, view):
        return queryset.search(request.query_params.get(self.search_param, ""))
