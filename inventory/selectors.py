"""Inventory reads."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

from inventory import owners as owner_registry
from inventory.errors import ItemNotFound, ReservationNotFound
from inventory.models import InventoryItem, Product, Reservation, ReservationLine, StockMovement


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    active: bool
    available: int


def catalog_lookup(*, skus: Iterable[str]) -> dict[str, CatalogEntry]:
    """Catalog data and current availability of `skus` in one query; unknown skus are
    absent from the result."""
    wanted = {s for s in skus if isinstance(s, str)}
    if not wanted:
        return {}
    # Raw SQL: placement's hot path, where building the ORM query cost more than running it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT p.sku, p.name, p.unit_price, p.currency, p.active, i.available "
                       "FROM catalog_products p JOIN inventory_items i ON i.catalog_id = p.id "
                       "WHERE p.sku = ANY(%s)", [sorted(wanted)])
        return {row[0]: CatalogEntry(*row) for row in cursor.fetchall()}


@dataclass(frozen=True, slots=True)
class ShippingMeasures:
    """One packed unit of a sku; None where the catalog does not know."""

    sku: str
    weight_kg: Decimal | None
    length_cm: Decimal | None
    width_cm: Decimal | None
    height_cm: Decimal | None


def catalog_measures(*, skus: Iterable[str]) -> dict[str, ShippingMeasures]:
    """Weight and dimensions of `skus` (for parcels and carrier rates); unknown skus are
    absent."""
    wanted = {s for s in skus if isinstance(s, str)}
    rows = Product.objects.filter(sku__in=wanted).values_list(
        "sku", "weight_kg", "length_cm", "width_cm", "height_cm")
    return {row[0]: ShippingMeasures(*row) for row in rows} if wanted else {}


# --- public catalog ----------------------------------------------------------------------
IN_STOCK, LOW_STOCK_BAND, OUT_OF_STOCK = "in_stock", "low_stock", "out_of_stock"
AVAILABILITY_BANDS = (IN_STOCK, LOW_STOCK_BAND, OUT_OF_STOCK)
CATALOG_ORDERINGS = {"sku": ("sku",), "name": ("name", "sku"), "price": ("unit_price", "sku"),
                     "-price": ("-unit_price", "sku")}


def catalog_list(*, q: str | None = None, product_id: str | None = None,
                 availability: str | None = None, currency: str | None = None,
                 min_price: Decimal | None = None, max_price: Decimal | None = None,
                 ordering: str = "sku") -> QuerySet[Product]:
    """What is for sale (active products), each annotated with `available` (units) and
    `availability` (in_stock / low_stock / out_of_stock: low at or below the item's
    low-stock threshold). One query per page."""
    qs = (Product.objects.filter(active=True)
          .annotate(available=F("stock__available"), availability=Case(
              When(stock__available__lte=0, then=Value(OUT_OF_STOCK)),
              When(stock__available__lte=F("stock__low_stock_threshold"),
                   then=Value(LOW_STOCK_BAND)),
              default=Value(IN_STOCK))))
    if q:
        qs = qs.filter(Q(sku__icontains=q) | Q(name__icontains=q))
    if product_id:
        qs = qs.filter(product_id=product_id)
    if availability:
        qs = qs.filter(availability=availability)
    if currency:
        qs = qs.filter(currency=currency)
    if min_price is not None:
        qs = qs.filter(unit_price__gte=min_price)
    if max_price is not None:
        qs = qs.filter(unit_price__lte=max_price)
    return qs.order_by(*CATALOG_ORDERINGS[ordering])


def catalog_get(*, sku: str) -> Product:
    product = catalog_list().filter(sku=sku).first()
    if product is None:
        raise ItemNotFound("No product with this sku is for sale.", details={"sku": sku})
    return product


# --- stock items ---------------------------------------------------------------------------
def item_get(*, sku: str) -> InventoryItem:
    item = InventoryItem.objects.select_related("catalog").filter(sku=sku).first()
    if item is None:
        raise ItemNotFound(details={"sku": sku})
    return item


def item_list(*, q: str | None = None, product_id: str | None = None,
              active: bool | None = None, low_stock: bool | None = None,
              needs_reorder: bool | None = None) -> QuerySet[InventoryItem]:
    qs = InventoryItem.objects.select_related("catalog").order_by("sku")
    if q:
        qs = qs.filter(Q(sku__icontains=q) | Q(catalog__name__icontains=q))
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    if active is not None:
        qs = qs.filter(catalog__active=active)
    if low_stock is not None:
        qs = qs.filter(LOW_STOCK) if low_stock else qs.exclude(LOW_STOCK)
    if needs_reorder is not None:
        qs = qs.filter(NEEDS_REORDER) if needs_reorder else qs.exclude(NEEDS_REORDER)
    return qs


LOW_STOCK = Q(available__lte=F("low_stock_threshold"))
NEEDS_REORDER = Q(available__lte=F("reorder_point"))


def low_stock_list() -> QuerySet[InventoryItem]:
    """Items at or below their low-stock threshold, emptiest first."""
    return (InventoryItem.objects.select_related("catalog").filter(LOW_STOCK)
            .order_by("available", "sku"))


def reorder_list() -> QuerySet[InventoryItem]:
    """Active items at or below their reorder point, with `suggested_quantity`: the
    configured reorder quantity, or more if that would not lift the item above its
    reorder point. Inactive items are left out: nobody reorders what is not sold."""
    return (
        InventoryItem.objects.select_related("catalog")
        .filter(NEEDS_REORDER, catalog__active=True)
        .annotate(suggested_quantity=Greatest(
            F("reorder_quantity"), F("reorder_point") - F("available") + 1))
        .order_by("available", "sku")
    )


def inventory_summary() -> dict:
    """Counts and totals for the dashboard, in three queries."""
    items = InventoryItem.objects.aggregate(
        items=Count("id"),
        active_items=Count("id", filter=Q(catalog__active=True)),
        out_of_stock=Count("id", filter=Q(available__lte=0)),
        low_stock=Count("id", filter=LOW_STOCK),
        needs_reorder=Count("id", filter=NEEDS_REORDER & Q(catalog__active=True)),
        total_units=Coalesce(Sum("total"), 0),
        reserved_units=Coalesce(Sum("reserved"), 0),
        available_units=Coalesce(Sum("available"), 0),
    )
    value = (InventoryItem.objects.values("catalog__currency")
             .annotate(v=Sum(F("total") * F("catalog__unit_price"),
                             output_field=DecimalField(max_digits=24, decimal_places=2)))
             .order_by("catalog__currency"))
    reservations = dict(Reservation.objects.values_list("status").annotate(n=Count("id"))
                        .order_by())
    return {
        **items,
        "stock_value": {row["catalog__currency"]: row["v"].quantize(Decimal("0.01"))
                        for row in value},
        "reservations": {s: reservations.get(s, 0) for s in Reservation.Status.values},
    }


def movement_list(*, sku: str) -> QuerySet[StockMovement]:
    """The sku's stock history, newest first (404 for an unknown sku)."""
    if not InventoryItem.objects.filter(sku=sku).exists():
        raise ItemNotFound(details={"sku": sku})
    return StockMovement.objects.filter(sku=sku).order_by("-position")


# --- reservations ----------------------------------------------------------------------------
def reservation_get_for_order(*, order_id: uuid.UUID) -> Reservation | None:
    return Reservation.objects.prefetch_related("lines").filter(order_id=order_id).first()


def reservation_get(*, reservation_id: uuid.UUID) -> Reservation:
    reservation = (Reservation.objects.prefetch_related("lines")
                   .filter(id=reservation_id).first())
    if reservation is None:
        raise ReservationNotFound(details={"reservation_id": str(reservation_id)})
    return reservation


def reservation_list(*, status: str | None = None) -> QuerySet[Reservation]:
    qs = Reservation.objects.prefetch_related("lines").order_by("-created_at")
    if status:
        qs = qs.filter(status=status)
    return qs


# --- verification ----------------------------------------------------------------------------
ACTIVE_STATUSES = (Reservation.Status.RESERVED, Reservation.Status.CONFIRMED,
                   Reservation.Status.PARTIALLY_FULFILLED)


@dataclass(frozen=True, slots=True)
class Drift:
    sku: str
    field: str  # "reserved" (vs active reservations) or "total" (vs the movement ledger)
    recorded: int
    expected: int


def stock_drift(*, skus: Iterable[str] | None = None) -> list[Drift]:
    """Items whose counters disagree with the facts: `reserved` must equal the units still
    held by active (reserved, confirmed or partially fulfilled) reservations, `total` the
    sum of the item's movements. Drift can only come from writes that bypassed the services
    (Saleor #5334)."""
    reserved_sub = (ReservationLine.objects
                    .filter(sku=OuterRef("sku"), reservation__status__in=ACTIVE_STATUSES)
                    .values("sku").annotate(n=Sum(F("quantity") - F("fulfilled_quantity")))
                    .values("n"))
    total_sub = (StockMovement.objects.filter(sku=OuterRef("sku"))
                 .values("sku").annotate(n=Sum("total_delta")).values("n"))
    qs = InventoryItem.objects.annotate(
        expected_reserved=Coalesce(Subquery(reserved_sub), 0),
        expected_total=Coalesce(Subquery(total_sub), 0),
    ).filter(~Q(reserved=F("expected_reserved")) | ~Q(total=F("expected_total")))
    if skus is not None:
        qs = qs.filter(sku__in=list(skus))
    drifts = []
    for item in qs.order_by("sku"):
        if item.reserved != item.expected_reserved:
            drifts.append(Drift(item.sku, "reserved", item.reserved, item.expected_reserved))
        if item.total != item.expected_total:
            drifts.append(Drift(item.sku, "total", item.total, item.expected_total))
    return drifts


@dataclass(frozen=True, slots=True)
class Mismatch:
    order_id: uuid.UUID
    reservation_status: str | None  # None: the order has no reservation
    order_status: str | None        # None: no such order
    problem: str


def reservation_mismatches() -> list[Mismatch]:
    """Stock held while no order needs it, or needed while not held: every active
    reservation must belong to an order in a state that holds stock, and every confirmed
    order (no cancellation under way) must hold a confirmed or fulfilled reservation. Asks
    the orders through inventory.owners; one snapshot for both reads."""
    owners = owner_registry.registered()
    if owners is None:
        return []
    snapshot = not connection.in_atomic_block  # else the caller's transaction decides
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        active = dict(Reservation.objects.filter(status__in=ACTIVE_STATUSES)
                      .values_list("order_id", "status"))
        states = owners.states(list(active))
        needing = set(owners.needing_confirmed_stock())
        held = dict(Reservation.objects.filter(order_id__in=needing)
                    .values_list("order_id", "status"))
    found = []
    for order_id, status in active.items():
        state = states.get(order_id)
        if state is None:
            found.append(Mismatch(order_id, status, None, "holds stock for an unknown order"))
        elif not state.holds_stock:
            found.append(Mismatch(order_id, status, state.status,
                                  f"holds stock for an order that is {state.status}"))
    settled = (Reservation.Status.CONFIRMED, Reservation.Status.PARTIALLY_FULFILLED,
               Reservation.Status.FULFILLED)
    for order_id in needing:
        if held.get(order_id) not in settled:
            found.append(Mismatch(order_id, held.get(order_id), "confirmed",
                                  "a confirmed order without confirmed stock"))
    return sorted(found, key=lambda m: str(m.order_id))
