"""JSON error bodies everywhere: DRF errors, Django's 404/500 pages and a lost database."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable; try again shortly."
    default_code = "service_unavailable"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def exception_handler(exc, context):
    """DRF's handler, plus Django validation errors as 400 and a lost database as 503."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", exc)
        exc = ServiceUnavailable()
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
    return response


def handler404(request, exception=None):
    return JsonResponse({"detail": "Not found."}, status=404)


def handler500(request):
    return JsonResponse({"detail": "Internal server error."}, status=500)


def handler400(request, exception=None):
    return JsonResponse({"detail": "Bad request."}, status=400)


def handler403(request, exception=None):
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
