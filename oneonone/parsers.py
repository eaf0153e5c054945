"""Request parsers: DRF's, except that a multipart body with content but no parts is a 400."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class MultiPartParser(parsers.MultiPartParser):
    """Django's multipart parser reads a body that does not match its boundary as an empty form;
    a client that sent something must learn it was not understood, not see it ignored."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        boundary_only = length <= 64  # "--<boundary>--\r\n": an empty form, legitimately
        if not result.data and not result.files and not boundary_only:
            raise ParseError("Multipart form parse error - the body has no parts for its boundary.")
        return result
