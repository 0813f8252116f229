"""The order lifecycle, declared once with django-fsm.

`OrderLifecycle` is an unmanaged model (no table): django-fsm needs a model class to host
an FSMField, but the order's truth is its event stream, not a row. The aggregate keeps one
instance as its state machine and moves it only by calling these transition methods, both
when a command decides (can_proceed) and when an event is applied (so a rebuilt aggregate
went through the same rules). The projection asks `target_status()` for each transition's
target, so the targets too are written only here.

Transitions whose target is None validate an action without changing the status (a note,
a captured payment, a cancellation request while the order keeps its status).
`custom["by"]` says who may trigger it: "customer" (the order's owner or staff), "staff",
or "system" (sagas)."""

from django.db import models
from django_fsm import FSMField, can_proceed, transition


class OrderStatus(models.TextChoices):
    PLACED = "placed"
    RESERVED = "reserved"
    PAID = "paid"  # payment authorized
    CONFIRMED = "confirmed"
    PARTIALLY_SHIPPED = "partially_shipped"  # some lines (or units) are in shipments
    SHIPPED = "shipped"  # every unit is in a shipment
    DELIVERED = "delivered"  # every shipment was delivered
    COMPLETED = "completed"
    PARTIALLY_RETURNED = "partially_returned"  # some units came back (received returns)
    RETURNED = "returned"  # every unit came back
    CANCELLED = "cancelled"
    FAILED = "failed"
    REFUNDED = "refunded"


S = OrderStatus
BEFORE_SHIPPING = [S.PLACED, S.RESERVED, S.PAID, S.CONFIRMED]
# Staff create shipments (all or some lines) while the order waits to be shipped.
SHIPPING = [S.CONFIRMED, S.PARTIALLY_SHIPPED]
# After fulfilment a cancellation restocks the shipped units (sagas decide, with approval).
CANCELLABLE = [*BEFORE_SHIPPING, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED]
# Customers return delivered units within the return window (orders/returns.py).
RETURNABLE = [S.DELIVERED, S.COMPLETED, S.PARTIALLY_RETURNED]
TERMINAL = frozenset({S.COMPLETED, S.CANCELLED, S.FAILED, S.REFUNDED, S.RETURNED})


def _no_pending_cancellation(machine) -> bool:
    return not machine.cancellation_pending


def _pending_cancellation(machine) -> bool:
    return machine.cancellation_pending


def _not_captured(machine) -> bool:
    return not machine.captured


def _not_archived(machine) -> bool:
    return not machine.archived


def _captured(machine) -> bool:
    return machine.captured


CUSTOMER, STAFF, SYSTEM = "customer", "staff", "system"


class OrderLifecycle(models.Model):
    status = FSMField(default=S.PLACED, choices=S.choices, protected=True)

    class Meta:
        managed = False
        db_table = "order_lifecycle_unused"  # never created: the machine is never saved

    def __init__(self, *args, cancellation_pending=False, captured=False, archived=False,
                 **kwargs):
        super().__init__(*args, **kwargs)
        # Flags the conditions read; the aggregate (or read model) keeps them current.
        self.cancellation_pending = cancellation_pending
        self.captured = captured
        self.archived = archived

    def __str__(self) -> str:
        return f"lifecycle at {self.status}"

    # --- customer / staff -------------------------------------------------------------
    @transition(field=status, source=BEFORE_SHIPPING, target=None, custom={"by": CUSTOMER})
    def update(self):
        """Change the shipping address or the notes (only before shipping)."""

    @transition(field=status, source=CANCELLABLE, target=None,
                conditions=[_no_pending_cancellation], custom={"by": CUSTOMER})
    def request_cancellation(self):
        """Ask for cancellation; the cancellation saga resolves it."""

    @transition(field=status, source=SHIPPING, target=None,
                conditions=[_no_pending_cancellation], custom={"by": STAFF})
    def create_shipment(self):
        """Put some or all unshipped units in a shipment (ShipmentCreated); the status
        follows from what is left (ship / ship_partially)."""

    @transition(field=status, source=SHIPPING, target=S.SHIPPED,
                conditions=[_no_pending_cancellation], custom={"by": STAFF})
    def ship(self):
        pass

    @transition(field=status, source=[*SHIPPING, S.SHIPPED], target=S.PARTIALLY_SHIPPED,
                custom={"by": STAFF})
    def ship_partially(self):
        """Some units are in shipments, some not (yet, or again after a cancelled one)."""

    @transition(field=status, source=[S.PARTIALLY_SHIPPED, S.SHIPPED], target=S.CONFIRMED,
                custom={"by": STAFF})
    def unship(self):
        """Every shipment of the order was cancelled (labels voided): ship it again."""

    @transition(field=status, source=S.SHIPPED, target=S.DELIVERED, custom={"by": STAFF})
    def deliver(self):
        pass

    @transition(field=status, source=[S.DELIVERED, S.PARTIALLY_RETURNED], target=S.COMPLETED,
                conditions=[_no_pending_cancellation], custom={"by": STAFF})
    def complete(self):
        pass

    # --- returns (RMA) ------------------------------------------------------------------
    @transition(field=status, source=RETURNABLE, target=None,
                conditions=[_no_pending_cancellation], custom={"by": CUSTOMER})
    def request_return(self):
        """Ask to send some delivered units back (ReturnRequested), within the window."""

    @transition(field=status, source=RETURNABLE, target=None, custom={"by": STAFF})
    def approve_return(self):
        """A requested return is accepted and its return label issued (ReturnApproved)."""

    @transition(field=status, source=RETURNABLE, target=None, custom={"by": STAFF})
    def reject_return(self):
        pass

    @transition(field=status, source=RETURNABLE, target=None,
                conditions=[_no_pending_cancellation], custom={"by": STAFF})
    def receive_return(self):
        """The parcel came back: restock or write off per line, refund (ReturnReceived)."""

    @transition(field=status, source=RETURNABLE, target=S.PARTIALLY_RETURNED,
                conditions=[_no_pending_cancellation], custom={"by": STAFF})
    def return_partially(self):
        pass

    @transition(field=status, source=RETURNABLE, target=S.RETURNED,
                conditions=[_no_pending_cancellation], custom={"by": STAFF})
    def return_fully(self):
        pass

    @transition(field=status, source=list(TERMINAL), target=None, conditions=[_not_archived],
                custom={"by": STAFF})
    def archive(self):
        pass

    # --- system (sagas) ---------------------------------------------------------------
    @transition(field=status, source=S.PLACED, target=S.RESERVED, custom={"by": SYSTEM})
    def mark_reserved(self):
        pass

    @transition(field=status, source=S.PLACED, target=None, custom={"by": SYSTEM})
    def record_reservation_failure(self):
        pass

    @transition(field=status, source=S.RESERVED, target=S.PAID, custom={"by": SYSTEM})
    def mark_payment_authorized(self):
        pass

    @transition(field=status, source=[S.PLACED, S.RESERVED, S.PAID], target=None,
                custom={"by": SYSTEM})
    def record_payment_failure(self):
        pass

    @transition(field=status, source=[S.PAID, S.CONFIRMED, S.PARTIALLY_SHIPPED, S.SHIPPED,
                                      S.DELIVERED],
                target=None, conditions=[_not_captured], custom={"by": SYSTEM})
    def mark_payment_captured(self):
        pass

    @transition(field=status, source=S.PAID, target=S.CONFIRMED, custom={"by": SYSTEM})
    def confirm(self):
        pass

    @transition(field=status, source=[S.PLACED, S.RESERVED, S.PAID], target=S.FAILED,
                custom={"by": SYSTEM})
    def fail(self):
        pass

    @transition(field=status, source=CANCELLABLE, target=None,
                conditions=[_pending_cancellation], custom={"by": SYSTEM})
    def reject_cancellation(self):
        pass

    @transition(field=status, source=CANCELLABLE, target=S.CANCELLED, custom={"by": SYSTEM})
    def cancel(self):
        pass

    @transition(field=status, source=[*CANCELLABLE, S.COMPLETED, S.PARTIALLY_RETURNED,
                                      S.RETURNED, S.CANCELLED, S.FAILED],
                target=None, custom={"by": SYSTEM})
    def record_refund(self):
        """Money went back (a cancellation or failure compensation, or a partial refund)."""

    @transition(field=status, source=[S.CONFIRMED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED,
                                      S.COMPLETED, S.PARTIALLY_RETURNED, S.RETURNED],
                target=None, conditions=[_captured, _no_pending_cancellation],
                custom={"by": STAFF})
    def request_refund(self):
        """Give back part or all of what was captured (a goodwill or return refund); the
        refund saga calls the processor and records RefundIssued or RefundFailed."""

    @transition(field=status, source=[*CANCELLABLE, S.COMPLETED, S.PARTIALLY_RETURNED,
                                      S.RETURNED, S.CANCELLED, S.FAILED, S.REFUNDED],
                target=None, custom={"by": SYSTEM})
    def record_refund_failure(self):
        """The processor refused a requested refund; nothing moved."""

    @transition(field=status, source=[S.DELIVERED, S.COMPLETED, S.PARTIALLY_RETURNED],
                target=S.REFUNDED,
                conditions=[_no_pending_cancellation], custom={"by": SYSTEM})
    def refund(self):
        """The whole amount of a delivered/completed order was refunded."""


def machine(*, status: str, cancellation_pending: bool = False, captured: bool = False,
            archived: bool = False) -> OrderLifecycle:
    return OrderLifecycle(status=status, cancellation_pending=cancellation_pending,
                          captured=captured, archived=archived)


def can(m: OrderLifecycle, action: str) -> bool:
    return can_proceed(getattr(m, action))


def allowed_actions(m: OrderLifecycle, *, by: frozenset[str] | None = None) -> list[str]:
    """Transitions possible now (conditions met), optionally only those `by` may trigger."""
    return sorted(
        t.name for t in m.get_available_status_transitions()
        if by is None or t.custom.get("by") in by
    )


def _targets() -> dict[str, str | None]:
    targets = {}
    for t in OrderLifecycle._meta.get_field("status").get_all_transitions(OrderLifecycle):
        targets[t.name] = t.target
    return targets


_TARGETS: dict[str, str | None] | None = None


def target_status(action: str) -> str | None:
    """The status a transition leads to (None: status unchanged)."""
    global _TARGETS
    if _TARGETS is None:
        _TARGETS = _targets()
    return _TARGETS[action]


def all_actions() -> list[str]:
    target_status("update")
    return sorted(_TARGETS)
