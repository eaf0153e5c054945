"""`text/calendar` responses: a renderer for content negotiation and the schema, errors kept as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class ICalendarRenderer(BaseRenderer):
    """Passes an already built iCalendar document (bytes) through as `text/calendar`."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode(self.charset)
        raise TypeError("ICalendarRenderer renders iCalendar documents (bytes), not Python data.")


class ICalendarViewMixin(APIView):
    """Answers `text/calendar` on success; errors stay JSON like everywhere else in the API.

    A client that accepts neither `text/calendar` nor `*/*` (e.g. `Accept: application/json` only)
    gets 406 Not Acceptable, with a JSON body.
    """

    renderer_classes: Any = [ICalendarRenderer]

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        # Errors, and OPTIONS' metadata (a dict), are JSON; only an iCalendar document is text/calendar.
        if isinstance(response, Response) and (  # DRF passes a Django response too (a 304)
            response.status_code >= 400 or not isinstance(response.data, (bytes, str))
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
