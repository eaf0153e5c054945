"""Page-number pagination shared by every list: 10 a page, `page_size` from 1 to 100."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.paginator import InvalidPage, Page
from django.core.paginator import Paginator as DjangoPaginator
from django.http import HttpResponseBase
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from oneonone import etags

if TYPE_CHECKING:
    # rest_framework.generics reads the pagination setting as it loads: imported for the checker alone.
    from rest_framework.generics import GenericAPIView

_Row = TypeVar("_Row")

# No list holds this many rows; an OFFSET beyond it would overflow a 64-bit integer in the database.
MAX_OFFSET = 2**53


class _FetchedPaginator(DjangoPaginator):
    """Django's paginator over a page already fetched, with the count that came with it."""

    def __init__(self, rows: Sequence[Any], count: int, per_page: int) -> None:
        super().__init__(rows, per_page)
        self.rows = rows
        self.__dict__["count"] = count  # a cached_property: known, never counted

    def page(self, number: int | str) -> Page[Any]:
        return Page(self.rows, self.validate_number(number), self)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 10
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
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

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # Every page answers `next` and `previous`, null at either end: required (and nullable), so a typed
        # client reads them without a check for a missing key (tests/test_response_required.py).
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["count", "next", "previous", "results"]
        return paginated

    def paginate_fetched(
        self,
        request: Request,
        fetch: Callable[[int, int], tuple[Sequence[_Row], int]],
        view: GenericAPIView[Any] | None = None,
    ) -> list[_Row]:
        """`paginate_queryset` for a page that comes with its count: `fetch(limit, offset)` answers (rows, count).

        The count folded into the page's query (a window, `COUNT(*) OVER ()`) saves a query and building one.
        DRF's semantics, answer for answer: `page_size` checked as above, `page=last`, 404 "Invalid page." for a
        page that is not a whole number, below 1 or past the end (page 1 of nothing is an empty page), and the
        same `next`/`previous` links. `fetch` may answer a count of 0 with no rows for a page past the end.
        """
        self.request = request
        page_size = self.get_page_size(request)
        page_number = request.query_params.get(self.page_query_param) or 1
        if page_number in self.last_page_strings:
            _, count = fetch(1, 0)  # the count first: the last page is a number only then
            page_number = _FetchedPaginator([], count, page_size).num_pages
        number = self._whole_number(page_number)
        if (number - 1) * page_size > MAX_OFFSET:
            # Past the end of any list, and an offset the database could not hold (SQLite: an overflow).
            message = DjangoPaginator.default_error_messages["no_results"]
            raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(message)))
        rows, count = fetch(page_size, (number - 1) * page_size)
        paginator = _FetchedPaginator(rows, count, page_size)
        try:
            self.page = paginator.page(number)  # past the end: Django's EmptyPage
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(exc))) from exc
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(rows)

    def _whole_number(self, page_number: str | int) -> int:
        """The page number as Django's paginator reads it (`int()` of the text), 404 if it is none or below 1."""
        messages = DjangoPaginator.default_error_messages
        try:
            number = int(page_number)
        except (TypeError, ValueError):
            message = messages["invalid_page"]
        else:
            if number >= 1:
                return number
            message = messages["min_page"]
        raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(message)))


def paginate_fetched(
    view: GenericAPIView[Any], request: Request, fetch: Callable[[int, int], tuple[Sequence[_Row], int]]
) -> list[_Row]:
    """The view's page of what `fetch(limit, offset)` answers with its count (see `paginate_fetched` above)."""
    paginator = view.paginator
    if not isinstance(paginator, PageNumberPagination):
        raise TypeError(f"{type(view).__name__} does not paginate by page number")
    return paginator.paginate_fetched(request, fetch, view)


def paginate_rows(view: GenericAPIView[Any], request: Request, rows: Sequence[_Row]) -> list[_Row]:
    """The view's page of rows all read already (a short list whose rows also make its ETag)."""
    return paginate_fetched(view, request, lambda limit, offset: (rows[offset : offset + limit], len(rows)))


def tagged_rows(
    view: GenericAPIView[Any],
    request: Request,
    kind: tuple[str, ...],
    rows: Sequence[_Row],
    bodies: Callable[[list[_Row]], list[Any]],
) -> HttpResponseBase:
    """A short list read whole, polled: its ETag from every row (with `kind`, who asks and the URL, which the
    page links hold), its page of `bodies` from the same rows; a 304 when nothing changed (oneonone.etags)."""
    current = etags.tag(*kind, request.user.pk, request.build_absolute_uri(), rows)

    def page() -> Response:
        return view.get_paginated_response(bodies(paginate_rows(view, request, rows)))

    return etags.answer(request, current, page)
