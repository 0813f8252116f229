"""The API's own OpenAPI schema (drf-spectacular), for tests parametrised over operations."""

import functools
import re
import uuid

WRITE_METHODS = ("post", "put", "patch")


@functools.cache
def schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema()["components"]["schemas"][name]
    return node


def write_operations() -> list[tuple[str, str, dict]]:
    """(METHOD, path template, JSON request schema) of every write operation with a body."""
    ops = []
    for path, item in sorted(schema()["paths"].items()):
        for method in WRITE_METHODS:
            if method in item:
                body = item[method].get("requestBody", {}).get("content", {})
                json_schema = body.get("application/json", {}).get("schema")
                if json_schema:
                    ops.append((method.upper(), path, _resolve(json_schema)))
    return ops


def fill_path(template: str) -> str:
    """A concrete URL: ids are fresh UUIDs, other parameters a plausible sku."""
    def value(match):
        name = match.group(1)
        return str(uuid.uuid4()) if name.endswith("id") else "SKU-1"

    return re.sub(r"\{(\w+)\}", value, template)


def body_with(json_schema: dict | None, text: str) -> dict:
    """A body shaped like the operation's schema in which every string (and every key of a
    free-form object) is `text`: hostile text reaches each field that could store it."""
    if not json_schema:
        return {"value": text}
    return _sample(json_schema, text, depth=0)


def _sample(node: dict, text: str, depth: int):
    node = _resolve(node)
    if depth > 5:
        return text
    kind = node.get("type")
    if "properties" in node or kind == "object":
        props = {k: _sample(v, text, depth + 1) for k, v in node.get("properties", {}).items()}
        if not node.get("properties") or node.get("additionalProperties"):
            props[text] = text
            props["name"] = text
        return props
    if kind == "array":
        return [_sample(node.get("items", {}), text, depth + 1)]
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    return text
