"""Wagtail API v2 (https://docs.wagtail.org/en/stable/advanced_topics/api/v2/configuration.html)."""

import logging
import re

from django.core.exceptions import FieldDoesNotExist, ValidationError

from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.utils import BadRequestError
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail.models import Site

logger = logging.getLogger(__name__)

#: What PostgreSQL stores as an integer (bigint); offsets, limits and ids beyond it fail
#: in the database, not in Wagtail's parsing.
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
_WHOLE_NUMBER = re.compile(r"\s*(?P<sign>[+-]?)0*(?P<digits>\d+)\s*")
#: NUL (PostgreSQL text cannot hold it) and lone surrogates (not encodable as UTF-8).
_UNUSABLE = re.compile("[\x00\ud800-\udfff]")


def check_query(query) -> None:
    """Refuse, as a 400, any query parameter the database could not take.

    Every parameter, not a list of today's: ``offset``, ``limit``, ``id``, ``child_of``,
    ``search``, ``locale``, a model's own field filters and whatever Wagtail adds later
    all reach a query. Values with a NUL or a lone surrogate are refused, and so are
    whole numbers outside PostgreSQL's bigint (``int()`` takes them; the database does not).
    """
    for name, values in query.lists():
        for value in (name, *values):
            if _UNUSABLE.search(value):
                raise BadRequestError(f"{_shown(name)} contains a character that is not allowed")
            number = _WHOLE_NUMBER.fullmatch(value)
            # By length first: int() refuses strings of over 4,300 digits.
            if number and (
                len(number["digits"]) > 19
                or not BIGINT_MIN <= int(number["sign"] + number["digits"]) <= BIGINT_MAX
            ):
                raise BadRequestError(f"{_shown(name)} is out of range")


def _shown(name: str) -> str:
    return _UNUSABLE.sub("\ufffd", name)[:50]


#: What Wagtail's filters and ``find`` raise for a query value they cannot use: a
#: ``?site=`` naming no site, a date that is none, an id that is not a number.
QUERY_ERRORS = (ValueError, ValidationError, Site.DoesNotExist)


class CheckedQueryMixin:
    """Checks the query string before any view of the endpoint runs (``initial`` is
    inside DRF's ``dispatch``, so Wagtail's ``handle_exception`` makes the 400), and
    answers 400 to what Wagtail's own filters refuse of a query value, not 500."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        check_query(request.GET)

    def handle_exception(self, exc):
        if isinstance(exc, QUERY_ERRORS) and self.request.GET:
            logger.info("API: a query value was refused (%s: %s)", type(exc).__name__, exc)
            exc = BadRequestError("a query parameter has a value that cannot be used")
        return super().handle_exception(exc)


def related_fields_asked(fields: str, model) -> list[str]:
    """The many-valued relations of ``model`` named in a ``fields`` parameter (``*``: all
    its API fields), so a listing loads each in one query instead of one per item."""
    names = {name.strip().lstrip("-") for name in fields.split(",")}
    api_names = {getattr(field, "name", field) for field in getattr(model, "api_fields", ())}
    if "*" in names:
        names |= api_names
    found = []
    for name in sorted(names & api_names):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.is_relation and (field.many_to_many or field.one_to_many):
            found.append(name)
    return found


class StoryloomPagesAPIViewSet(CheckedQueryMixin, PagesAPIViewSet):
    def get_queryset(self):
        queryset = super().get_queryset()
        fields = self.request.GET.get("fields", "")
        related = related_fields_asked(fields, queryset.model) if fields else []
        return queryset.prefetch_related(*related) if related else queryset


class StoryloomImagesAPIViewSet(CheckedQueryMixin, ImagesAPIViewSet):
    pass


api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", StoryloomPagesAPIViewSet)
api_router.register_endpoint("images", StoryloomImagesAPIViewSet)
