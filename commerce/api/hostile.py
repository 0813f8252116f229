"""Input that no field can store: NUL characters (PostgreSQL text and jsonb refuse them) and
unpaired UTF-16 surrogates (not encodable as UTF-8), and JSON nested deeper than any of our
bodies needs. Checked once at the edge (the JSON parser and commerce.api.middleware), so a
hostile string is refused as 400 before it reaches jsonb or a query."""

import re

# Deeper than any body we accept (an order is 3 levels; an address object may nest a
# little) and far below the interpreter's recursion limit.
MAX_JSON_DEPTH = 32

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "Contains a character that cannot be stored (NUL or an unpaired surrogate)."


def unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def printable(text: str) -> str:
    """`text` with each unstorable character written as an escape (`\\u0000`), safe to echo
    back in an error body."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class TooDeep(Exception):
    pass


def unstorable_paths(data, *, max_depth: int = MAX_JSON_DEPTH, limit: int = 20) -> list[str]:
    """Dotted paths (`shipping_address.name`, `lines.0.sku`; `$` for the root) of every
    string, key included, that cannot be stored; at most `limit`. Iterative, so a deep
    document cannot exhaust the stack; raises TooDeep beyond `max_depth` levels."""
    found: list[str] = []
    stack = [(data, "", 0)]
    while stack and len(found) < limit:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if unstorable(value):
                found.append(path or "$")
        elif isinstance(value, dict | list):
            if depth >= max_depth:
                raise TooDeep
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in items:
                key = str(key)
                shown = printable(key)
                child_path = f"{path}.{shown}" if path else shown
                if unstorable(key):
                    found.append(child_path)
                stack.append((child, child_path, depth + 1))
    return sorted(found)
