"""A sample event's context per kind, shaped exactly as notifications/triggers.py builds it:
what staff see when they preview a template (or a draft override) in the admin."""

from decimal import Decimal

from django.conf import settings
from django.utils import timezone

ORDER_ID = "3f2b8c1e-6d4a-4e8b-9c2f-1a5d7e9b0c42"
SAGA_ID = "8d1e5a73-2c9f-4b06-a1d4-6e3f8b2c7d15"


def _order() -> dict:
    lines = [
        {"sku": "TEE-BLK-M", "name": "T-shirt black M", "quantity": 2,
         "unit_price": Decimal("19.90"), "line_total": Decimal("39.80")},
        {"sku": "MUG-LOGO", "name": "Logo mug", "quantity": 1,
         "unit_price": Decimal("9.50"), "line_total": Decimal("9.50")},
    ]
    return {
        "order_id": ORDER_ID, "order_ref": ORDER_ID[:8].upper(), "currency": "USD",
        "lines": lines, "subtotal": Decimal("49.30"), "shipping": Decimal("4.90"),
        "discount": Decimal("0.00"), "tax": Decimal("0.00"), "total": Decimal("54.20"),
        "shipping_address": {"name": "Alice Example", "line1": "1 Main Street",
                             "city": "Springfield", "postal_code": "12345", "country": "US"},
        "placed_at": timezone.now(), "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
        "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
        "refunded": Decimal("54.20"), "cancellation_reason": "Ordered by mistake",
        "failure_code": "payment_declined", "failure_reason": "Your card was declined.",
        "customer_name": "Alice Example", "site_url": settings.PUBLIC_BASE_URL,
        "unsubscribe_url": f"{settings.PUBLIC_BASE_URL}/unsubscribe/sample-token/",
    }


def sample_context(kind: str) -> dict:
    base_url = settings.PUBLIC_BASE_URL
    if kind == "low_stock":
        return {"sku": "TEE-BLK-L", "name": "T-shirt black L", "available": 5,
                "low_stock_threshold": 5, "site_url": base_url,
                "admin_url": f"{base_url}/admin/inventory/inventoryitem/"}
    if kind == "saga_failed":
        return {"saga_id": SAGA_ID, "saga_type": "order_cancellation", "order_id": ORDER_ID,
                "step": "refund_payment", "error": "payment_gateway_timeout: no answer",
                "site_url": base_url, "admin_url": f"{base_url}/admin/sagas/sagainstance/",
                "order_url": f"{base_url}/admin/orders/orderview/"}
    if kind == "cancellation_awaiting_approval":
        return {"saga_id": SAGA_ID, "saga_type": "order_cancellation", "order_id": ORDER_ID,
                "step": "approve_refund", "reason": "refund above the approval threshold",
                "amount": "650.00", "site_url": base_url,
                "admin_url": f"{base_url}/admin/sagas/sagainstance/",
                "order_url": f"{base_url}/admin/orders/orderview/"}
    context = _order()
    context["event"] = {}
    if kind == "order_refunded":
        context["event"] = {"amount": "20.00", "refund_amount": "20.00"}
    if kind == "return_approved":
        context["return_label_url"] = f"{base_url}/returns/RMA-1042/label.pdf"
        context["return_lines"] = [{"sku": "TEE-BLK-M", "quantity": 1}]
    return context
