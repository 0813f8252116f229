from drf_spectacular.openapi import AutoSchema


class CommerceAutoSchema(AutoSchema):
    """Names OpenAPI components after the serializer's qualified name, so the nested
    `InputSerializer`/`OutputSerializer` of every view (one per operation, by convention)
    become distinct components such as `RegisterApiInput` instead of colliding."""

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        cls = serializer.__class__ if not isinstance(serializer, type) else serializer
        qualname = cls.__qualname__
        if "." in qualname and getattr(getattr(cls, "Meta", None), "ref_name", None) is None:
            name = qualname.replace(".", "").removesuffix("Serializer")
        return name
