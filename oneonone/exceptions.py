"""JSON error bodies everywhere: DRF errors, Django's 404/500 pages and a lost database."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

UNAVAILABLE = "The service is temporarily unavailable; try again shortly."
UNSTORABLE = (
    "The request holds a value the database cannot store or compare "
    "(a NUL character, or a number out of range); nothing was changed."
)
CONCURRENT = "The data changed at the same moment; nothing was changed. Try again."


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = UNAVAILABLE
    default_code = "service_unavailable"


class UnstorableValue(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = UNSTORABLE
    default_code = "invalid"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def _database_unavailable(exc: BaseException | None) -> bool:
    # OperationalError: connection refused or lost, server shut down, deadlock, timeouts;
    # InterfaceError: a connection that was already closed under us.
    return isinstance(exc, (OperationalError, InterfaceError))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus Django validation errors as 400 and a lost database as 503."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif _database_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        exc = ServiceUnavailable()
    elif isinstance(exc, DataError):
        # Input the database refuses (PostgreSQL text cannot hold NUL; integers overflow):
        # the client's fault, so a 400, not the 503 of a failing database.
        logger.info("database refused a value: %s", exc)
        exc = UnstorableValue()
    elif isinstance(exc, IntegrityError):
        # Services turn the constraints they expect into clear 4xx; one that slips through
        # lost a race with another request.
        logger.exception("unexpected integrity error")
        exc = Conflict(CONCURRENT)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None and isinstance(exc, DatabaseError):
        logger.exception("database error")
        return Response(
            {"detail": "The request could not be completed; nothing was changed."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if response is not None and response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response.headers.setdefault("Retry-After", "5")
    return response


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def handler500(request: HttpRequest) -> JsonResponse:
    # Outside DRF views (middleware, plain Django views) a lost database still answers 503:
    # Django calls this handler while the exception is being handled.
    if _database_unavailable(sys.exc_info()[1]):
        response = JsonResponse({"detail": UNAVAILABLE}, status=503)
        response["Retry-After"] = "5"
        return response
    return JsonResponse({"detail": "Internal server error."}, status=500)


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Bad request."}, status=400)


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
