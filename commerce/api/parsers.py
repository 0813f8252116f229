from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from commerce.api import hostile


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus what it lets through to a 500: documents nested deep enough
    to exhaust the stack (RecursionError is not a ValueError), and strings that PostgreSQL
    cannot store (400 `validation_error`, naming each offending field)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(self._too_deep()) from None
        try:
            paths = hostile.unstorable_paths(data)
        except hostile.TooDeep:
            raise ParseError(self._too_deep()) from None
        if paths:
            raise ValidationError({path: [hostile.MESSAGE] for path in paths})
        return data

    @staticmethod
    def _too_deep() -> str:
        return f"JSON parse error - nested deeper than {hostile.MAX_JSON_DEPTH} levels."
