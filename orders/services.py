"""Order commands. Each is one transaction: load the aggregate from its events, check the
lifecycle (orders/lifecycle.py), record events, append them (the inline projection updates
`order_views`/`order_lines`, policies such as the sagas react, the outbox gets the rows).

Saga-facing commands are idempotent: repeating one whose effect is already recorded returns
the order unchanged. They retry a bounded number of times when another writer appended to
the same order first (the decision is re-taken on fresh state); customer commands carrying
an expected version never retry (the client must reload: 412/409)."""

import uuid
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from commerce.core import metrics
from commerce.core.errors import ConcurrencyError, PreconditionFailed, ValidationFailed
from commerce.eventstore.aggregate import Repository
from inventory import selectors as inventory_selectors
from orders import events as ev
from orders import lifecycle
from orders.aggregate import Order, money
from orders.models import OrderView
from orders.projections import rows_just_placed
from orders.selectors import order_get
from orders.validation import (
    NOTES_MAX_LENGTH,
    REASON_MAX_LENGTH,
    catalog_errors,
    clean_address,
    clean_lines,
    clean_shipping_option,
    clean_text,
    stock_errors,
)

repository: Repository[Order] = Repository(Order)
INTERNAL_RETRIES = 3
_SHIPMENT_NAMESPACE = uuid.UUID("9d2e4f60-1b3a-4c8d-a7e5-6f0b2c9d8e14")
ZERO = Decimal("0.00")


def _uuid(value, field: str) -> str:
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except ValueError:
        raise ValidationFailed(details={field: ["Must be a UUID."]}) from None


def shipping_charge(*, subtotal: Decimal, quoted: Decimal | None) -> Decimal:
    """What the customer pays for shipping: the quoted price of the option they chose,
    0.00 from settings.SHIPPING_FREE_THRESHOLD of subtotal up (None: no threshold), 0.00
    without a chosen option."""
    threshold = settings.SHIPPING_FREE_THRESHOLD
    if quoted is None or (threshold is not None and subtotal >= threshold):
        return ZERO
    return money(quoted)


def price_lines(lines: list[dict[str, Any]], catalog, *,
                shipping_quoted: Decimal | None = None) -> dict[str, Any]:
    """Money rule: line_total = unit_price × quantity; subtotal = Σ line totals; shipping =
    shipping_charge(subtotal, the chosen option's quoted price); discount and tax are 0.00
    for now (real fields, so a later rule changes no schema); total = subtotal + shipping −
    discount + tax. All 2-place Decimals."""
    priced = []
    for line in lines:
        entry = catalog[line["sku"]]
        unit = money(entry.unit_price)
        priced.append({"sku": entry.sku, "name": entry.name, "unit_price": str(unit),
                       "quantity": line["quantity"],
                       "line_total": str(money(unit * line["quantity"]))})
    subtotal = money(sum((Decimal(p["line_total"]) for p in priced), ZERO))
    shipping = shipping_charge(subtotal=subtotal, quoted=shipping_quoted)
    discount, tax = ZERO, ZERO
    return {"lines": priced, "currency": catalog[lines[0]["sku"]].currency,
            "subtotal": str(subtotal), "shipping": str(shipping), "discount": str(discount),
            "tax": str(tax), "total": str(money(subtotal + shipping - discount + tax))}


def order_place(
    *, customer_id: uuid.UUID, lines: list[dict], shipping_address: dict,
    payment_method: str | None = None, notes: str = "", order_id: uuid.UUID | None = None,
    channel: str = "api", shipping_option: dict | None = None,
) -> OrderView:
    """Place an order at current catalog prices (never the client's). An `order_id` that
    already exists raises ConcurrencyError (the cart relies on it for idempotent checkout).
    `shipping_option` is the carrier option the customer chose (a redeemed shipping quote:
    quote_id, carrier, service_level, service_code, service_name, price, currency); its
    price is charged by the pricing rule (price_lines) and the option kept on the order."""
    # Check lines and address both, so one 400 names every bad field.
    details: dict = {}
    clean, address = [], {}
    try:
        clean = clean_lines(lines)
    except ValidationFailed as exc:
        details.update(exc.details)
    try:
        address = clean_address(shipping_address)
    except ValidationFailed as exc:
        details.update(exc.details)
    if details:
        raise ValidationFailed(details=details)
    customer_id = _uuid(customer_id, "customer_id")
    # A stream this call names afresh cannot clash with another writer's, so its append
    # needs no savepoint to recover from one (a savepoint is two statements more).
    fresh_stream = order_id is None
    order_id = uuid.UUID(_uuid(order_id, "order_id")) if order_id is not None else uuid.uuid4()
    notes = clean_text(notes, "notes", max_length=NOTES_MAX_LENGTH)
    if payment_method is not None:
        payment_method = clean_text(payment_method, "payment_method", max_length=100) or None
    catalog = inventory_selectors.catalog_lookup(skus=[line["sku"] for line in clean])
    catalog_errors(clean, catalog)
    stock_errors(clean, catalog)
    option = clean_shipping_option(shipping_option, currency=catalog[clean[0]["sku"]].currency)

    order = Order(order_id)
    priced = price_lines(clean, catalog,
                         shipping_quoted=Decimal(option["price"]) if option else None)
    order.record(ev.ORDER_PLACED, {
        "customer_id": customer_id, **priced,
        "shipping_address": address, "payment_method": payment_method, "channel": channel,
        # only when one was chosen, so orders without one keep the original shape
        **({"shipping_option": option} if option else {}),
    })
    if notes:
        order.require("update")
        order.record(ev.ORDER_NOTES_CHANGED, {"notes": notes})
    # Repository.save is the command's one transaction; no extra savepoint around it (this
    # is the hot path).
    recorded = repository.save(order, savepoint=not fresh_stream)
    view = _placed_view(recorded[0]) if len(recorded) == 1 else order_get(order_id=order.id)
    transaction.on_commit(lambda: _count_placed(channel), robust=True)
    return view


def _placed_view(event) -> OrderView:
    """What the projection just inserted, kept by it instead of read back
    (two queries less on the hot path), with its lines as the prefetched `lines`: a list,
    enough for the response (`view.lines.all()`), and cheaper than a QuerySet built to
    hold them (a tenth of the placement's rendering)."""
    view, lines = rows_just_placed(event)
    view._state.adding, view._state.db = False, "default"
    for line in lines:
        line._state.adding, line._state.db = False, "default"
    view._prefetched_objects_cache = {"lines": lines}
    return view


def _count_placed(channel: str) -> None:
    metrics.ORDERS_PLACED.labels(channel=channel).inc()
    metrics.ORDER_TRANSITIONS.labels(to_status=lifecycle.OrderStatus.PLACED).inc()


def _execute(order_id, decide: Callable[[Order], None], *, expected_version: int | None = None,
             retries: int = INTERNAL_RETRIES) -> OrderView:
    """Load, decide (check + record), append and return the fresh view, in one transaction.
    `decide` raising refuses the command with nothing written."""
    order_id = uuid.UUID(_uuid(order_id, "order_id"))
    attempt = 0
    while True:
        attempt += 1
        try:
            with transaction.atomic():
                order = repository.get(order_id)
                if expected_version is not None and order.version != expected_version:
                    raise PreconditionFailed(details={"expected_version": expected_version,
                                                      "current_version": order.version})
                decide(order)
                pending = order.pending_events
                repository.save(order)
                view = order_get(order_id=order_id)
        except ConcurrencyError:
            if expected_version is not None or attempt > retries:
                raise
            continue
        targets = [lifecycle.target_status(ev.TRANSITIONS[e.event_type]) for e in pending
                   if e.event_type in ev.TRANSITIONS]
        # Counted once the outermost transaction commits (a rolled-back saga step counts 0).
        transaction.on_commit(partial(_count_transitions, targets), robust=True)
        return view


def _count_transitions(targets: list[str | None]) -> None:
    for target in targets:
        if target:
            metrics.ORDER_TRANSITIONS.labels(to_status=target).inc()


# --- customer / staff commands ---------------------------------------------------------
def order_update(*, order_id, expected_version: int, shipping_address: dict | None = None,
                 notes: str | None = None) -> OrderView:
    """Change the shipping address and/or notes before shipping. `expected_version` is the
    version the client saw (If-Match): a different current version → PreconditionFailed."""
    address = clean_address(shipping_address) if shipping_address is not None else None
    if notes is not None:
        notes = clean_text(notes, "notes", max_length=NOTES_MAX_LENGTH)
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise ValidationFailed(details={"expected_version": ["An integer is required."]})

    def decide(order: Order) -> None:
        order.require("update")
        if address is not None and address != order.shipping_address:
            order.record(ev.SHIPPING_ADDRESS_CHANGED, {"shipping_address": address})
        if notes is not None and notes != order.notes:
            order.record(ev.ORDER_NOTES_CHANGED, {"notes": notes})

    return _execute(order_id, decide, expected_version=expected_version)


def order_request_cancellation(*, order_id, reason: str) -> OrderView:
    """Record CancellationRequested; the cancellation saga reacts to it (void/refund,
    release/restock, then order_cancel or order_reject_cancellation). A second request
    while one is pending, or on a terminal order, is refused (409)."""
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH)

    def decide(order: Order) -> None:
        order.require("request_cancellation")
        order.record(ev.CANCELLATION_REQUESTED, {"reason": reason})

    return _execute(order_id, decide)


def record_once(action: str, event_type: str) -> Callable[[Order], None]:
    """The decision of a command recording `event_type` with no data; a repeat is a no-op."""

    def decide(order: Order) -> None:
        if event_type in order.seen:
            return
        order.require(action)
        order.record(event_type, {})

    return decide


def _record_once(order_id, action: str, event_type: str) -> OrderView:
    return _execute(order_id, record_once(action, event_type))


def order_deliver(*, order_id) -> OrderView:
    """Record OrderDelivered (shipped → delivered)."""
    return _record_once(order_id, "deliver", ev.ORDER_DELIVERED)


def order_complete(*, order_id) -> OrderView:
    """Record OrderCompleted (delivered → completed)."""
    return _record_once(order_id, "complete", ev.ORDER_COMPLETED)


def order_confirm(*, order_id) -> OrderView:
    """Saga: record OrderConfirmed (paid → confirmed)."""
    return _record_once(order_id, "confirm", ev.ORDER_CONFIRMED)


def order_archive(*, order_id, reason: str = "") -> OrderView:
    """Hide a terminal order from default listings (OrderArchived); its events stay."""
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH)

    def decide(order: Order) -> None:
        if order.archived:
            return
        order.require("archive")
        order.record(ev.ORDER_ARCHIVED, {"reason": reason})

    return _execute(order_id, decide)


# --- saga-facing commands ----------------------------------------------------------------
# Each decision is built by a function of its own, so the saga's batch steps
# (orders/batch.py: many orders per statement) decide exactly as these commands do.
def mark_reserved(reservation_id) -> Callable[[Order], None]:
    reservation_id = _uuid(reservation_id, "reservation_id")

    def decide(order: Order) -> None:
        if order.reservation_id == reservation_id:
            return
        order.require("mark_reserved")
        order.record(ev.INVENTORY_RESERVED, {"reservation_id": reservation_id})

    return decide


def order_mark_reserved(*, order_id, reservation_id) -> OrderView:
    return _execute(order_id, mark_reserved(reservation_id))


def mark_payment_authorized(payment_id, amount) -> Callable[[Order], None]:
    def decide(order: Order) -> None:
        if str(payment_id) in order.authorized:
            return
        order.require("mark_payment_authorized")
        order.record(ev.PAYMENT_AUTHORIZED,
                     {"payment_id": str(payment_id), "amount": str(money(amount))})

    return decide


def order_mark_payment_authorized(*, order_id, payment_id, amount) -> OrderView:
    return _execute(order_id, mark_payment_authorized(payment_id, amount))


def mark_payment_captured(payment_id, amount) -> Callable[[Order], None]:
    def decide(order: Order) -> None:
        if order.captured_payment_id == str(payment_id):
            return
        order.require("mark_payment_captured")
        order.record(ev.PAYMENT_CAPTURED,
                     {"payment_id": str(payment_id), "amount": str(money(amount))})

    return decide


def order_mark_payment_captured(*, order_id, payment_id, amount) -> OrderView:
    return _execute(order_id, mark_payment_captured(payment_id, amount))


_FAILURE_EVENTS = {"insufficient_stock": (ev.INVENTORY_RESERVATION_FAILED,
                                          "record_reservation_failure"),
                   "payment_declined": (ev.PAYMENT_FAILED, "record_payment_failure")}


def order_fail(*, order_id, reason: str, code: str) -> OrderView:
    """Record InventoryReservationFailed (code insufficient_stock) or PaymentFailed (code
    payment_declined), then OrderFailed. Other codes record OrderFailed only."""
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH)
    code = clean_text(code, "code", max_length=50, required=True)

    def decide(order: Order) -> None:
        if ev.ORDER_FAILED in order.seen:
            return
        order.require("fail")
        if code in _FAILURE_EVENTS:
            event_type, action = _FAILURE_EVENTS[code]
            order.require(action)
            order.record(event_type, {"reason": reason, "code": code})
        order.record(ev.ORDER_FAILED, {"reason": reason, "code": code})

    return _execute(order_id, decide)


def order_cancel(*, order_id, reason: str) -> OrderView:
    """Saga: the cancellation is done (money and stock settled): OrderCancelled."""
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH)

    def decide(order: Order) -> None:
        if ev.ORDER_CANCELLED in order.seen:
            return
        order.require("cancel")
        order.record(ev.ORDER_CANCELLED, {"reason": reason})

    return _execute(order_id, decide)


def order_reject_cancellation(*, order_id, reason: str) -> OrderView:
    """Saga/staff: the pending cancellation is refused; the order is otherwise unchanged."""
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH)

    def decide(order: Order) -> None:
        if not order.cancellation_pending and order.last_cancellation_outcome in (
                "rejected", "superseded"):
            return
        order.require("reject_cancellation")
        order.record(ev.CANCELLATION_REJECTED, {"reason": reason})

    return _execute(order_id, decide)


# Refund commands live in orders/refunds.py, shipment commands in orders/shipments.py and
# return commands in orders/returns.py; re-exported here, the contract's entry points.
from orders.refunds import (  # noqa: E402,F401
    order_record_refund,
    order_record_refund_failure,
    order_request_refund,
)
from orders.returns import (  # noqa: E402,F401
    order_return_approve,
    order_return_receive,
    order_return_reject,
    order_return_request,
)
from orders.shipments import (  # noqa: E402,F401
    order_ship,
    order_shipment_cancel,
    order_shipment_create,
    order_shipment_label_failure,
    order_shipment_label_record,
    order_shipment_tracking_record,
)
