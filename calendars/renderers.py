"""`text/calendar` responses: a renderer for content negotiation and the schema, errors kept as JSON."""

from __future__ import annotations

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response


class ICalendarRenderer(BaseRenderer):
    """Passes an already built iCalendar document (bytes) through as `text/calendar`."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode(self.charset)
        raise TypeError("ICalendarRenderer renders iCalendar documents (bytes), not Python data.")


class ICalendarViewMixin:
    """Answers `text/calendar` on success; errors stay JSON like everywhere else in the API.

    A client that accepts neither `text/calendar` nor `*/*` (e.g. `Accept: application/json` only)
    gets 406 Not Acceptable, with a JSON body.
    """

    renderer_classes = [ICalendarRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors, and OPTIONS' metadata (a dict), are JSON; only an iCalendar document is text/calendar.
        if isinstance(response, Response) and (
            response.status_code >= 400 or not isinstance(response.data, (bytes, str))
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
