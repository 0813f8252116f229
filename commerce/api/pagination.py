from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class DefaultPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (≤ 100) → `{"count", "next", "previous", "results"}`;
    a page past the end is 404 `not_found`. Every list of the API uses it: list views set
    `pagination_class = DefaultPagination` (so the OpenAPI schema shows the envelope and
    the parameters) and answer with `paginated_response`."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def paginated_response(view, request, items, serializer_cls, *, context=None) -> Response:
    """One page of `items` (a queryset or a list) rendered with `serializer_cls`."""
    paginator = (getattr(view, "pagination_class", None) or DefaultPagination)()
    page = paginator.paginate_queryset(items, request, view=view)
    data = serializer_cls(page, many=True, context=context or {}).data
    return paginator.get_paginated_response(data)
