"""FedEx REST APIs: OAuth (client credentials), Rates and Transit Times, Ship, Track, and
tracking webhooks signed `fdx-signature: base64(HMAC-SHA256(security token, body))`.

Idempotency: the ship call carries `x-customer-transaction-id` (our shipment or return id),
which FedEx echoes and the simulator dedupes on."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings

from shipping.carriers.base import (
    Address,
    Carrier,
    CarrierRefused,
    Label,
    OAuthToken,
    Rate,
    TrackingUpdate,
    WebhookRejected,
    carrier_answer,
    http_date_days,
)

# Derived status code → our tracking status.
STATUSES = {"OC": "label_created", "PU": "in_transit", "IT": "in_transit",
            "AR": "in_transit", "DP": "in_transit", "AF": "in_transit", "OD": "out_for_delivery",
            "DL": "delivered", "DE": "exception", "SE": "exception", "CA": "exception"}


class FedExCarrier(Carrier):
    service = "fedex"
    code = "fedex"
    settings_prefix = "FEDEX"
    name = "FedEx"
    services = {"FEDEX_GROUND": ("economy", "FedEx Ground"),
                "FEDEX_2_DAY": ("standard", "FedEx 2Day"),
                "STANDARD_OVERNIGHT": ("express", "FedEx Standard Overnight"),
                "PRIORITY_OVERNIGHT": ("overnight", "FedEx Priority Overnight")}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.token = OAuthToken(self._fetch_token)

    def _fetch_token(self):
        answer = self.request("token", "POST", "/oauth/token", data={
            "grant_type": "client_credentials", "client_id": settings.FEDEX_CLIENT_ID,
            "client_secret": settings.FEDEX_CLIENT_SECRET}).json()
        return answer["access_token"], answer.get("expires_in", 3600)

    def _api(self, operation: str, method: str, path: str, *, headers: dict | None = None,
             **kwargs):
        return self.request_with_token(self.token, operation, method, path,
                                       headers={"X-locale": "en_US", **(headers or {})},
                                       **kwargs)

    @staticmethod
    def refusal(body):
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            return errors[0].get("code", ""), errors[0].get("message", "")
        return "", str(body)[:300]

    # --- the interface ------------------------------------------------------------------
    @carrier_answer("rate")
    def rates(self, *, origin, destination, parcel, currency):
        body = {"accountNumber": {"value": self.account},
                "rateRequestControlParameters": {"returnTransitTimes": True},
                "requestedShipment": {
                    "shipper": {"address": _short(origin)},
                    "recipient": {"address": _short(destination)},
                    "pickupType": "DROPOFF_AT_FEDEX_LOCATION", "preferredCurrency": currency,
                    "rateRequestType": ["ACCOUNT"],
                    "requestedPackageLineItems": [_package(parcel)]}}
        answer = self._api("rate", "POST", "/rate/v1/rates/quotes", json=body).json()
        rates = []
        for detail in answer.get("output", {}).get("rateReplyDetails", []):
            level = self.services.get(detail["serviceType"], (None,))[0]
            rated = (detail.get("ratedShipmentDetails") or [{}])[0]
            if level is None or "totalNetCharge" not in rated:
                continue
            eta = http_date_days(detail.get("commit", {}).get("dateDetail", {})
                                 .get("dayFormat"))
            rates.append(Rate(
                carrier=self.code, service_code=detail["serviceType"],
                service_name=detail.get("serviceName", detail["serviceType"]),
                service_level=level, currency=rated.get("currency", currency),
                amount=Decimal(str(rated["totalNetCharge"])).quantize(Decimal("0.01")),
                estimated_delivery=eta,
                transit_days=(eta - datetime.now(UTC).date()).days if eta else None))
        return rates

    @carrier_answer("ship")
    def create_label(self, *, origin, destination, parcel, service_code, reference,
                     is_return=False):
        shipment = {
            "shipper": _party(origin), "recipients": [_party(destination)],
            "shipDatestamp": datetime.now(UTC).date().isoformat(),
            "serviceType": service_code, "packagingType": "YOUR_PACKAGING",
            "pickupType": "DROPOFF_AT_FEDEX_LOCATION",
            "shippingChargesPayment": {"paymentType": "SENDER"},
            "labelSpecification": {"imageType": "PDF",
                                   "labelStockType": "PAPER_85X11_TOP_HALF_LABEL"},
            "requestedPackageLineItems": [_package(parcel)]}
        if is_return:
            shipment["shipmentSpecialServices"] = {
                "specialServiceTypes": ["RETURN_SHIPMENT"],
                "returnShipmentDetail": {"returnType": "PRINT_RETURN_LABEL"}}
        answer = self._api("ship", "POST", "/ship/v1/shipments",
                           headers={"x-customer-transaction-id": reference},
                           json={"labelResponseOptions": "LABEL", "requestedShipment": shipment,
                                 "accountNumber": {"value": self.account}}).json()
        done = answer["output"]["transactionShipments"][0]
        piece = done["pieceResponses"][0]
        rating = done.get("completedShipmentDetail", {}).get("shipmentRating", {}) \
            .get("shipmentRateDetails", [{}])[0]
        return Label(carrier=self.code, service_code=service_code,
                     tracking_number=done["masterTrackingNumber"],
                     document=base64.b64decode(piece["packageDocuments"][0]["encodedLabel"]),
                     cost=Decimal(str(rating.get("totalNetCharge", "0"))).quantize(
                         Decimal("0.01")), currency=rating.get("currency", "USD"))

    @carrier_answer("track")
    def track(self, *, tracking_number):
        answer = self._api("track", "POST", "/track/v1/trackingnumbers", json={
            "includeDetailedScans": True,
            "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": tracking_number}}],
        }).json()
        updates = []
        for complete in answer.get("output", {}).get("completeTrackResults", []):
            for result in complete.get("trackResults", []):
                if "error" in result:
                    raise CarrierRefused(result["error"].get("message", "Not found."), details={
                        "carrier": self.code, "operation": "track",
                        "carrier_code": result["error"].get("code", "")})
                updates += [_scan(complete["trackingNumber"], scan)
                            for scan in result.get("scanEvents", [])]
        return updates

    @carrier_answer("void")
    def void(self, *, tracking_number):
        self._api("void", "PUT", "/ship/v1/shipments/cancel", json={
            "accountNumber": {"value": self.account}, "emailShipment": False,
            "senderCountryCode": settings.SHIPPING_ORIGIN["country"],
            "deletionControl": "DELETE_ALL_PACKAGES", "trackingNumber": tracking_number})

    def parse_webhook(self, *, headers, body):
        given = headers.get("fdx-signature", "")
        expected = base64.b64encode(hmac.new(settings.FEDEX_WEBHOOK_SECRET.encode(), body,
                                             hashlib.sha256).digest()).decode()
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected(details={"carrier": self.code})
        payload = _json(body)
        return [_scan(payload["trackingNumber"], scan) for scan in payload.get("scanEvents", [])]


def _short(address: Address) -> dict:
    return {"postalCode": address.postal_code, "countryCode": address.country,
            **({"city": address.city} if address.city else {})}


def _party(address: Address) -> dict:
    return {"contact": {"personName": address.name, "phoneNumber": address.phone or "0000000"},
            "address": {"streetLines": [line for line in (address.line1, address.line2)
                                        if line],
                        "city": address.city, "stateOrProvinceCode": address.region,
                        "postalCode": address.postal_code, "countryCode": address.country}}


def _package(parcel) -> dict:
    return {"weight": {"units": "KG", "value": float(parcel.weight_kg)},
            "dimensions": {"length": int(parcel.length_cm), "width": int(parcel.width_cm),
                           "height": int(parcel.height_cm), "units": "CM"}}


def _scan(tracking_number: str, scan: dict) -> TrackingUpdate:
    code = scan.get("derivedStatusCode") or scan.get("eventType", "")
    where = scan.get("scanLocation", {})
    return TrackingUpdate(
        tracking_number=tracking_number, status=STATUSES.get(code, "in_transit"), code=code,
        description=scan.get("eventDescription", ""),
        location=", ".join(p for p in (where.get("city"), where.get("countryCode")) if p),
        occurred_at=datetime.fromisoformat(scan["date"]).astimezone(UTC))


def _json(body: bytes) -> dict:
    payload = json.loads(body)  # a malformed signed body: ValueError → 400 (shipping.tracking)
    if not isinstance(payload, dict) or not isinstance(payload.get("trackingNumber"), str):
        raise ValueError("not a tracking event")
    return payload
