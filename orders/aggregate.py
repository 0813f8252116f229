"""The Order aggregate: the fold of its events. Commands (orders/services.py) check the
lifecycle through `require()`, then `record()` events; every apply_* that embodies a
transition runs it on the django-fsm machine, so the status only ever moves through the
declaration in orders/lifecycle.py."""

from decimal import Decimal
from typing import Any

from commerce.eventstore.aggregate import Aggregate
from orders import events as ev
from orders import lifecycle
from orders.errors import InvalidTransition
from orders.fulfilment_state import FulfilmentState


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


class Order(FulfilmentState, Aggregate):
    """Shipment and return folds come from FulfilmentState (orders/fulfilment_state.py)."""

    aggregate_type = ev.ORDER

    def __init__(self, aggregate_id):
        super().__init__(aggregate_id)
        self.machine = lifecycle.machine(status=lifecycle.OrderStatus.PLACED)
        self.placed = False
        self.customer_id: str | None = None
        self.lines: list[dict[str, Any]] = []
        self.currency = ""
        self.subtotal = self.shipping = self.discount = self.tax = self.total = Decimal("0.00")
        self.shipping_address: dict[str, Any] = {}
        self.payment_method: str | None = None
        self.channel = ""
        self.shipping_option: dict[str, Any] | None = None
        self.notes = ""
        self.reservation_id: str | None = None
        self.authorized: dict[str, Decimal] = {}  # payment_id → amount
        self.captured_payment_id: str | None = None
        self.captured_amount = Decimal("0.00")
        # Refunds recorded: by refund_id when the refund was requested (RefundRequested),
        # else by (payment_id, amount) (compensations and cancellations, which refund once).
        self.refunds: set[tuple[str, str]] = set()
        self.refund_ids: set[str] = set()
        self.refund_requests: dict[str, Decimal] = {}  # refund_id → amount, not yet settled
        self.refunded_total = Decimal("0.00")
        self.shipment_id: str | None = None
        self.last_cancellation_outcome: str | None = None  # "rejected" | "cancelled"
        self.failure: dict[str, str] | None = None
        self.seen: set[str] = set()  # event types recorded so far (idempotent commands)
        self._init_fulfilment()

    # --- state read by commands -----------------------------------------------------
    @property
    def status(self) -> str:
        return self.machine.status

    @property
    def cancellation_pending(self) -> bool:
        return self.machine.cancellation_pending

    @property
    def archived(self) -> bool:
        return self.machine.archived

    @property
    def refundable(self) -> Decimal:
        """What may still be asked back: captured − refunded − refunds requested and not
        yet settled (so two concurrent partial refunds can never exceed the capture)."""
        return self.captured_amount - self.refunded_total - sum(
            self.refund_requests.values(), Decimal("0.00"))

    def allowed_actions(self) -> list[str]:
        return lifecycle.allowed_actions(self.machine)

    def require(self, action: str) -> None:
        """Refuse an action the lifecycle does not allow now (nothing is recorded)."""
        if not lifecycle.can(self.machine, action):
            raise InvalidTransition(
                f"Cannot {action.replace('_', ' ')} an order that is {self.status}"
                + (" with a cancellation pending." if self.cancellation_pending else "."),
                details={"action": action, "status": self.status,
                         "cancellation_pending": self.cancellation_pending,
                         "archived": self.archived,
                         "allowed_actions": self.allowed_actions()},
            )

    # --- folding ----------------------------------------------------------------------
    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        action = ev.TRANSITIONS.get(event_type)
        if action is not None:
            getattr(self.machine, action)()  # raises TransitionNotAllowed if illegal
        super()._apply(event_type, data)
        self.seen.add(event_type)

    def apply_order_placed(self, data):
        self.placed = True
        self.customer_id = data["customer_id"]
        self.lines = data["lines"]
        self.currency = data["currency"]
        for name in ("subtotal", "shipping", "discount", "tax", "total"):
            setattr(self, name, money(data[name]))
        self.shipping_address = data["shipping_address"]
        self.payment_method = data["payment_method"]
        self.channel = data["channel"]
        # The shipping option the customer chose at checkout (absent: none chosen).
        self.shipping_option = data.get("shipping_option")

    def apply_shipping_address_changed(self, data):
        self.shipping_address = data["shipping_address"]

    def apply_order_notes_changed(self, data):
        self.notes = data["notes"]

    def apply_inventory_reserved(self, data):
        self.reservation_id = data["reservation_id"]

    def apply_inventory_reservation_failed(self, data):
        pass

    def apply_payment_authorized(self, data):
        self.authorized[data["payment_id"]] = money(data["amount"])

    def apply_payment_failed(self, data):
        pass

    def apply_payment_captured(self, data):
        self.captured_payment_id = data["payment_id"]
        self.captured_amount = money(data["amount"])
        self.machine.captured = True

    def apply_order_confirmed(self, data):
        pass

    def apply_order_shipped(self, data):
        pass

    def apply_order_delivered(self, data):
        pass

    def apply_order_completed(self, data):
        pass

    def apply_cancellation_requested(self, data):
        self.machine.cancellation_pending = True
        self.last_cancellation_outcome = None

    def apply_cancellation_rejected(self, data):
        self.machine.cancellation_pending = False
        self.last_cancellation_outcome = "rejected"

    def apply_order_cancelled(self, data):
        self.machine.cancellation_pending = False
        self.last_cancellation_outcome = "cancelled"

    def apply_refund_requested(self, data):
        self.refund_requests[data["refund_id"]] = money(data["amount"])

    def apply_refund_issued(self, data):
        refund_id = data.get("refund_id")
        if refund_id:
            self.refund_ids.add(refund_id)
            self.refund_requests.pop(refund_id, None)
        else:
            self.refunds.add((data["payment_id"], data["amount"]))
        self.refunded_total += money(data["amount"])

    def apply_refund_failed(self, data):
        self.refund_ids.add(data["refund_id"])
        self.refund_requests.pop(data["refund_id"], None)

    def apply_order_refunded(self, data):
        pass

    def apply_order_failed(self, data):
        self.failure = {"code": data["code"], "reason": data["reason"]}
        if self.machine.cancellation_pending:  # the failure settles the pending request
            self.machine.cancellation_pending = False
            self.last_cancellation_outcome = "superseded"

    def apply_order_archived(self, data):
        self.machine.archived = True
