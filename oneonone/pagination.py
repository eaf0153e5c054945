"""Page-number pagination shared by every list: 10 a page, `page_size` from 1 to 100."""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 10
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        # DRF silently falls back to the default for a bad value and clamps a large one;
        # a client asking for 500 rows should learn it gets at most 100.
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:  # left out, or sent empty (the schema's allowEmptyValue)
            return self.page_size
        size = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_paginated_response_schema(self, schema):
        # Every page answers `next` and `previous`, null at either end: required (and nullable), so a typed
        # client reads them without a check for a missing key (tests/test_response_required.py).
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["count", "next", "previous", "results"]
        return paginated
