from uuid import UUID

from django.db.models import QuerySet

from commerce.core.errors import NotFound
from sagas.models import SagaInstance


def saga_list(*, status: str | None = None, saga_type: str | None = None,
              correlation_id: UUID | None = None) -> QuerySet[SagaInstance]:
    qs = SagaInstance.objects.order_by("-created_at", "id")
    if status:
        qs = qs.filter(status=status)
    if saga_type:
        qs = qs.filter(saga_type=saga_type)
    if correlation_id:
        qs = qs.filter(correlation_id=correlation_id)
    return qs


def saga_get(*, saga_id: UUID) -> SagaInstance:
    saga = SagaInstance.objects.prefetch_related("steps").filter(pk=saga_id).first()
    if saga is None:
        raise NotFound("Saga not found.", details={"saga_id": str(saga_id)})
    return saga


def saga_for_order(*, order_id: UUID, saga_type: str) -> SagaInstance | None:
    """The newest saga of a type for an order."""
    return (SagaInstance.objects.filter(correlation_id=order_id, saga_type=saga_type)
            .order_by("-created_at").first())
