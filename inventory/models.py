"""Inventory read models. Every table here is an inline projection of events
(inventory/projections.py): services never write these rows directly, they append events,
and `replay_events` can rebuild every row bit for bit.

Streams: catalog and stock facts about one sku live on the sku's own stream
(`StockItem`, id = `events.stock_item_id(sku)`); each reservation has its own stream
(`Reservation`, id = `events.reservation_id(order_id)`), so concurrent checkouts of a
popular sku never compete for one stream version."""

import uuid

from django.db import models
from django.db.models import F, Q


class Product(models.Model):
    """A sellable sku of the catalog: what orders and carts take names and prices from."""

    id = models.UUIDField(primary_key=True, editable=False)  # the sku's stream id
    sku = models.CharField(max_length=255, unique=True)
    # Groups the skus (variants) of one product.
    product_id = models.CharField(max_length=255, db_index=True)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    active = models.BooleanField(default=True)
    # What carriers rate and label by (one unit, packed). Unknown (null) weight counts as
    # settings.SHIPPING_DEFAULT_ITEM_WEIGHT_KG when a parcel is made up.
    weight_kg = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    length_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    width_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "catalog_products"
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0),
                                   name="catalog_products_price_gte_0"),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gt=0),
                name="catalog_products_weight_gt_0"),
            models.CheckConstraint(
                condition=(Q(length_cm__isnull=True) | Q(length_cm__gt=0))
                & (Q(width_cm__isnull=True) | Q(width_cm__gt=0))
                & (Q(height_cm__isnull=True) | Q(height_cm__gt=0)),
                name="catalog_products_dimensions_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class InventoryItem(models.Model):
    """Stock levels of one sku. `available` is computed by PostgreSQL and the CHECK
    constraints make negative stock impossible even if code went wrong."""

    id = models.UUIDField(primary_key=True, editable=False)  # same id as its Product
    catalog = models.OneToOneField(Product, on_delete=models.PROTECT, related_name="stock",
                                   db_column="catalog_id")
    sku = models.CharField(max_length=255, unique=True)
    product_id = models.CharField(max_length=255, db_index=True)
    total = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    available = models.GeneratedField(expression=F("total") - F("reserved"),
                                      output_field=models.IntegerField(), db_persist=True)
    low_stock_threshold = models.PositiveIntegerField(default=5)
    reorder_point = models.PositiveIntegerField(default=10)
    reorder_quantity = models.PositiveIntegerField(default=50)
    # The last version of the sku's stream: the expected version of its next append.
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "inventory_items"
        ordering = ["sku"]
        permissions = [("receive_stock", "Can receive stock"),
                       ("adjust_stock", "Can adjust stock counts")]
        constraints = [
            models.CheckConstraint(condition=Q(reserved__gte=0),
                                   name="inventory_items_reserved_gte_0"),
            # available = total - reserved; written on the base columns because a CHECK
            # on the generated column itself is evaluated the same way.
            models.CheckConstraint(condition=Q(total__gte=F("reserved")),
                                   name="inventory_items_available_gte_0"),
        ]
        indexes = [
            models.Index(F("available"), name="inventory_items_available_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.total} total, {self.reserved} reserved"

    # Catalog fields, so callers holding an item need not know about the split.
    @property
    def name(self) -> str:
        return self.catalog.name

    @property
    def unit_price(self):
        return self.catalog.unit_price

    @property
    def currency(self) -> str:
        return self.catalog.currency

    @property
    def active(self) -> bool:
        return self.catalog.active

    @property
    def is_low_stock(self) -> bool:
        return self.available <= self.low_stock_threshold

    @property
    def needs_reorder(self) -> bool:
        return self.available <= self.reorder_point


class Reservation(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved"
        CONFIRMED = "confirmed"
        # Some units shipped (per line, ReservationLine.fulfilled_quantity), some still held.
        PARTIALLY_FULFILLED = "partially_fulfilled"
        FULFILLED = "fulfilled"
        RELEASED = "released"
        EXPIRED = "expired"
        RESTOCKED = "restocked"

    id = models.UUIDField(primary_key=True, editable=False)  # the reservation's stream id
    order_id = models.UUIDField(unique=True)
    status = models.CharField(max_length=24, choices=Status.choices)
    expires_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True, default="")
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "inventory_reservations"
        ordering = ["-created_at"]
        permissions = [("manage_reservation",
                        "Can reserve, confirm, fulfil, release and restock by hand")]
        indexes = [
            # the expiry sweep: only holding reservations, by deadline
            models.Index(fields=["expires_at"], name="inv_reservations_expiry_idx",
                         condition=Q(status="reserved")),
        ]

    def __str__(self) -> str:
        return f"reservation {self.id} ({self.status}) for order {self.order_id}"


class ReservationLine(models.Model):
    id = models.UUIDField(primary_key=True, editable=False)  # uuid5(reservation, sku)
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    # Units of this line that left the warehouse (shipped), and of those, units that came
    # back into stock (a return or a cancellation after shipping). Still held for the
    # order while the reservation is active: quantity - fulfilled_quantity.
    fulfilled_quantity = models.PositiveIntegerField(default=0)
    restocked_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "inventory_reservation_lines"
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["reservation", "sku"],
                                    name="inv_reservation_lines_uniq"),
            models.CheckConstraint(condition=Q(quantity__gt=0),
                                   name="inv_reservation_lines_qty_gt_0"),
            models.CheckConstraint(condition=Q(fulfilled_quantity__lte=F("quantity")),
                                   name="inv_reservation_lines_fulfilled_lte_qty"),
            models.CheckConstraint(
                condition=Q(restocked_quantity__lte=F("fulfilled_quantity")),
                name="inv_reservation_lines_restocked_lte_fulfilled"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class StockMovement(models.Model):
    """One row per (event, sku): the audit trail of every unit. Deltas say what the event
    did to the item's counters."""

    class Kind(models.TextChoices):
        RECEIVED = "received"
        ADJUSTED = "adjusted"
        RESERVED = "reserved"
        CONFIRMED = "confirmed"
        FULFILLED = "fulfilled"
        UNFULFILLED = "unfulfilled"  # a shipment was cancelled: its units are held again
        RELEASED = "released"
        EXPIRED = "expired"
        RESTOCKED = "restocked"

    id = models.UUIDField(primary_key=True, editable=False)  # uuid5(event id, sku)
    event_id = models.UUIDField()
    position = models.BigIntegerField()
    sku = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quantity = models.IntegerField()
    total_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True, default="")
    reservation_id = models.UUIDField(null=True, blank=True)
    order_id = models.UUIDField(null=True, blank=True)
    actor = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "inventory_stock_movements"
        ordering = ["-position"]
        indexes = [models.Index(fields=["sku", "position"], name="inv_movements_sku_pos_idx")]

    def __str__(self) -> str:
        return f"{self.sku} {self.kind} {self.quantity}"


def line_id(reservation_id: uuid.UUID, sku: str) -> uuid.UUID:
    return uuid.uuid5(reservation_id, sku)


def movement_id(event_id: uuid.UUID, sku: str) -> uuid.UUID:
    return uuid.uuid5(event_id, sku)
