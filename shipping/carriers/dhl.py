"""DHL Express MyDHL API (HTTP Basic auth): rates, shipments (label), tracking; tracking
pushes as DHL's unified push API sends them, signed with the subscription secret:
`DHL-Timestamp` + `DHL-Signature: sha256=<hex HMAC-SHA256(secret, "<ts>.<body>")>`; a
timestamp outside settings.SHIPPING_WEBHOOK_TOLERANCE_SECONDS is refused (replays).

MyDHL API cannot void a label: an Express label is billed only once DHL picks the parcel up,
so `void` records nothing remotely. Idempotency: the shipment call carries our id as
`Message-Reference`."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings

from shipping.carriers.base import (
    Address,
    Carrier,
    Label,
    Rate,
    TrackingUpdate,
    WebhookRejected,
    carrier_answer,
    http_date_days,
)

CHECKPOINTS = {"PU": "in_transit", "PL": "in_transit", "DF": "in_transit", "AF": "in_transit",
               "AR": "in_transit", "CC": "in_transit", "WC": "out_for_delivery",
               "OK": "delivered", "BA": "exception", "NH": "exception", "CA": "exception",
               "OH": "exception", "RT": "exception"}
UNIFIED = {"pre-transit": "label_created", "transit": "in_transit", "delivered": "delivered",
           "failure": "exception"}


class DHLCarrier(Carrier):
    service = "dhl"
    code = "dhl"
    settings_prefix = "DHL"
    name = "DHL Express"
    services = {"G": ("economy", "DHL Economy Select"), "N": ("standard", "DHL Express Domestic"),
                "P": ("express", "DHL Express Worldwide"), "K": ("overnight", "DHL Express 9:00")}

    def __init__(self, **kwargs):
        kwargs.setdefault("auth", (settings.DHL_API_KEY, settings.DHL_API_SECRET))
        super().__init__(**kwargs)

    @staticmethod
    def refusal(body):
        if isinstance(body, dict):
            return str(body.get("title", "")), str(body.get("detail") or body.get("message", ""))
        return "", str(body)[:300]

    def _planned(self) -> str:
        at = datetime.now(UTC) + timedelta(hours=1)
        return at.strftime("%Y-%m-%dT%H:%M:%SGMT+00:00")

    # --- the interface ------------------------------------------------------------------
    @carrier_answer("rate")
    def rates(self, *, origin, destination, parcel, currency):
        body = {"customerDetails": {"shipperDetails": _short(origin),
                                    "receiverDetails": _short(destination)},
                "accounts": [{"typeCode": "shipper", "number": self.account}],
                "plannedShippingDateAndTime": self._planned(), "unitOfMeasurement": "metric",
                "isCustomsDeclarable": origin.country != destination.country,
                "nextBusinessDay": False, "packages": [_package(parcel)]}
        answer = self.request("rate", "POST", "/rates", json=body).json()
        rates = []
        for product in answer.get("products", []):
            code = product.get("productCode")
            billing = next((p for p in product.get("totalPrice", [])
                            if p.get("currencyType") == "BILLC"), None)
            if code not in self.services or billing is None:
                continue
            capabilities = product.get("deliveryCapabilities", {})
            rates.append(Rate(
                carrier=self.code, service_code=code, service_name=self.services[code][1],
                service_level=self.services[code][0],
                amount=Decimal(str(billing["price"])).quantize(Decimal("0.01")),
                currency=billing["priceCurrency"],
                transit_days=capabilities.get("totalTransitDays"),
                estimated_delivery=http_date_days(
                    capabilities.get("estimatedDeliveryDateAndTime"))))
        return rates

    @carrier_answer("ship")
    def create_label(self, *, origin, destination, parcel, service_code, reference,
                     is_return=False):
        body = {"plannedShippingDateAndTime": self._planned(), "pickup": {"isRequested": False},
                "productCode": service_code,
                "accounts": [{"typeCode": "shipper", "number": self.account}],
                "outputImageProperties": {"encodingFormat": "pdf", "imageOptions": [
                    {"typeCode": "label", "templateName": "ECOM26_84_001"}]},
                "customerDetails": {"shipperDetails": _full(origin),
                                    "receiverDetails": _full(destination)},
                "content": {"packages": [_package(parcel)],
                            "isCustomsDeclarable": origin.country != destination.country,
                            "description": "Merchandise", "incoterm": "DAP",
                            "unitOfMeasurement": "metric"}}
        if is_return:
            body["valueAddedServices"] = [{"serviceCode": "PT"}]  # return shipment
        answer = self.request("ship", "POST", "/shipments", json=body,
                              headers={"Message-Reference": reference[:36]}).json()
        charge = next((c for c in answer.get("shipmentCharges", [])
                       if c.get("currencyType") == "BILLC"), {})
        document = next(d for d in answer["documents"] if d.get("typeCode") == "label")
        return Label(carrier=self.code, service_code=service_code,
                     tracking_number=answer["shipmentTrackingNumber"],
                     document=base64.b64decode(document["content"]),
                     cost=Decimal(str(charge.get("price", "0"))).quantize(Decimal("0.01")),
                     currency=charge.get("priceCurrency", "USD"))

    @carrier_answer("track")
    def track(self, *, tracking_number):
        answer = self.request("track", "GET", f"/shipments/{tracking_number}/tracking",
                              params={"trackingView": "all-checkpoints",
                                      "levelOfDetail": "all"}).json()
        updates = []
        for shipment in answer.get("shipments", []):
            for event in shipment.get("events", []):
                code = event.get("typeCode", "")
                at = datetime.fromisoformat(
                    f"{event['date']}T{event['time']}{event.get('GMTOffset', '+00:00')}")
                area = (event.get("serviceArea") or [{}])[0]
                updates.append(TrackingUpdate(
                    tracking_number=shipment["shipmentTrackingNumber"],
                    status=CHECKPOINTS.get(code, "in_transit"), code=code,
                    description=event.get("description", ""),
                    location=area.get("description", ""), occurred_at=at.astimezone(UTC)))
        return updates

    @carrier_answer("void")
    def void(self, *, tracking_number):
        """Nothing to call: an unused DHL Express label is never billed."""

    def parse_webhook(self, *, headers, body):
        stamp = headers.get("DHL-Timestamp", "")
        given = headers.get("DHL-Signature", "").removeprefix("sha256=")
        expected = hmac.new(settings.DHL_WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body,
                            hashlib.sha256).hexdigest()
        if not (stamp.isascii() and stamp.isdigit()) or not given or \
                not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected(details={"carrier": self.code})
        if abs(time.time() - int(stamp)) > settings.SHIPPING_WEBHOOK_TOLERANCE_SECONDS:
            raise WebhookRejected("The webhook timestamp is outside the accepted window.",
                                  details={"carrier": self.code, "timestamp": stamp})
        updates = []
        for shipment in json.loads(body)["shipments"]:
            for event in shipment.get("events", []):
                code = event.get("status", "")
                status = CHECKPOINTS.get(code) or UNIFIED.get(event.get("statusCode"),
                                                              "in_transit")
                where = event.get("location", {}).get("address", {})
                updates.append(TrackingUpdate(
                    tracking_number=shipment["id"], status=status, code=code,
                    description=event.get("description", ""),
                    location=", ".join(p for p in (where.get("addressLocality"),
                                                   where.get("countryCode")) if p),
                    occurred_at=datetime.fromisoformat(event["timestamp"]).astimezone(UTC)))
        return updates


def _short(address: Address) -> dict:
    return {"postalCode": address.postal_code, "cityName": address.city or address.postal_code,
            "countryCode": address.country}


def _full(address: Address) -> dict:
    return {"postalAddress": {**_short(address), "addressLine1": address.line1 or "-",
                              "provinceCode": address.region},
            "contactInformation": {"phone": address.phone or "0000000",
                                   "companyName": address.name or "-",
                                   "fullName": address.name or "-"}}


def _package(parcel) -> dict:
    return {"weight": float(parcel.weight_kg),
            "dimensions": {"length": float(parcel.length_cm), "width": float(parcel.width_cm),
                           "height": float(parcel.height_cm)}}
