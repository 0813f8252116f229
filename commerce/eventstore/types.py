import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event not yet stored. `data` must be JSON-serialisable (Decimal, UUID and datetime
    are encoded as strings by DjangoJSONEncoder)."""

    event_type: str
    data: dict[str, Any]
    event_version: int = 1


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    id: uuid.UUID
    position: int
    aggregate_id: uuid.UUID
    aggregate_type: str
    event_type: str
    event_version: int
    data: dict[str, Any]
    version: int
    created_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)

    def envelope(self) -> dict[str, Any]:
        """The JSON published to other services (consumers dedupe on event_id)."""
        return {
            "event_id": str(self.id),
            "position": self.position,
            "aggregate_id": str(self.aggregate_id),
            "aggregate_type": self.aggregate_type,
            "event_type": self.event_type,
            "event_version": self.event_version,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "data": self.data,
            "metadata": self.metadata,
        }
