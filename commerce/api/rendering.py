"""Rendering a response body with a serializer, without rebuilding the serializer.

DRF deep-copies every declared field each time a serializer is instantiated; for the order
returned by placement (nested lines and address) that copy cost as much as the rest of the
rendering. `represent` keeps one instance per serializer class and thread, built once, and
gives it the request's context before each use: the output is what
`serializer_cls(instance, context=context).data` would be."""

import threading

_local = threading.local()


def represent(serializer_cls, instance, *, context: dict | None = None) -> dict:
    serializers = _local.__dict__.setdefault("serializers", {})
    serializer = serializers.get(serializer_cls)
    if serializer is None:
        serializer = serializers[serializer_cls] = serializer_cls(context={})
        serializer.fields  # noqa: B018 - built (deep-copied) here, once
    serializer._context = context or {}
    return serializer.to_representation(instance)
