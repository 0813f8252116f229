"""UPS APIs: OAuth (client credentials, HTTP Basic), Rating (Shop), Shipping (ship, void),
Tracking, and Track Alert pushes, which UPS authenticates with the opaque `credential`
given at subscription, sent back in a header of that name.

Idempotency: every call carries `transId` (our shipment or return id for the ship call),
which the simulator dedupes on."""

import base64
import hmac
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings

from shipping.carriers.base import (
    Address,
    Carrier,
    Label,
    OAuthToken,
    Rate,
    TrackingUpdate,
    WebhookRejected,
    carrier_answer,
    http_date_days,
)

VERSION = "v2409"
SOURCE = "commerce-service"


class UPSCarrier(Carrier):
    service = "ups"
    code = "ups"
    settings_prefix = "UPS"
    name = "UPS"
    services = {"03": ("economy", "UPS Ground"), "02": ("standard", "UPS 2nd Day Air"),
                "13": ("express", "UPS Next Day Air Saver"),
                "01": ("overnight", "UPS Next Day Air")}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.token = OAuthToken(self._fetch_token)

    def _fetch_token(self):
        basic = base64.b64encode(
            f"{settings.UPS_CLIENT_ID}:{settings.UPS_CLIENT_SECRET}".encode()).decode()
        answer = self.request("token", "POST", "/security/v1/oauth/token",
                              data={"grant_type": "client_credentials"},
                              headers={"Authorization": f"Basic {basic}",
                                       "x-merchant-id": self.account}).json()
        return answer["access_token"], answer.get("expires_in", "3600")

    def _api(self, operation: str, method: str, path: str, *, trans_id: str | None = None,
             **kwargs):
        return self.request_with_token(
            self.token, operation, method, path, **kwargs,
            headers={"transId": trans_id or uuid.uuid4().hex, "transactionSrc": SOURCE})

    @staticmethod
    def refusal(body):
        errors = (body.get("response") or {}).get("errors") if isinstance(body, dict) else None
        if errors:
            return errors[0].get("code", ""), errors[0].get("message", "")
        return "", str(body)[:300]

    # --- the interface ------------------------------------------------------------------
    @carrier_answer("rate")
    def rates(self, *, origin, destination, parcel, currency):
        body = {"RateRequest": {
            "Request": {"TransactionReference": {"CustomerContext": "rate"}},
            "Shipment": {"Shipper": _party(origin, self.account), "ShipFrom": _party(origin),
                         "ShipTo": _party(destination), "Package": [_package(parcel)],
                         "DeliveryTimeInformation": {"PackageBillType": "03"}}}}
        answer = self._api("rate", "POST", f"/api/rating/{VERSION}/Shop", json=body).json()
        rates = []
        for rated in answer.get("RateResponse", {}).get("RatedShipment", []):
            code = rated["Service"]["Code"]
            if code not in self.services:
                continue
            summary = rated.get("TimeInTransit", {}).get("ServiceSummary", {}) \
                .get("EstimatedArrival", {})
            days = rated.get("GuaranteedDelivery", {}).get("BusinessDaysInTransit")
            rates.append(Rate(
                carrier=self.code, service_code=code, service_name=self.services[code][1],
                service_level=self.services[code][0],
                amount=Decimal(rated["TotalCharges"]["MonetaryValue"]).quantize(
                    Decimal("0.01")),
                currency=rated["TotalCharges"]["CurrencyCode"],
                transit_days=int(days) if days else None,
                estimated_delivery=http_date_days(summary.get("Arrival", {}).get("Date"))))
        return rates

    @carrier_answer("ship")
    def create_label(self, *, origin, destination, parcel, service_code, reference,
                     is_return=False):
        shipment = {"Description": "Merchandise", "Shipper": _party(origin, self.account),
                    "ShipFrom": _party(origin), "ShipTo": _party(destination),
                    "PaymentInformation": {"ShipmentCharge": [
                        {"Type": "01", "BillShipper": {"AccountNumber": self.account}}]},
                    "Service": {"Code": service_code}, "Package": [_package(parcel)]}
        if is_return:
            shipment["ReturnService"] = {"Code": "9"}  # UPS Print Return Label
        answer = self._api("ship", "POST", f"/api/shipments/{VERSION}/ship", trans_id=reference,
                           json={"ShipmentRequest": {
                               "Request": {"RequestOption": "nonvalidate",
                                           "TransactionReference": {
                                               "CustomerContext": reference}},
                               "Shipment": shipment,
                               "LabelSpecification": {"LabelImageFormat": {"Code": "PDF"}}}}
                           ).json()
        results = answer["ShipmentResponse"]["ShipmentResults"]
        charges = results.get("ShipmentCharges", {}).get("TotalCharges", {})
        package = results["PackageResults"][0]
        return Label(carrier=self.code, service_code=service_code,
                     tracking_number=results["ShipmentIdentificationNumber"],
                     document=base64.b64decode(package["ShippingLabel"]["GraphicImage"]),
                     cost=Decimal(charges.get("MonetaryValue", "0")).quantize(Decimal("0.01")),
                     currency=charges.get("CurrencyCode", "USD"))

    @carrier_answer("track")
    def track(self, *, tracking_number):
        answer = self._api("track", "GET", f"/api/track/v1/details/{tracking_number}",
                           params={"locale": "en_US", "returnSignature": "false"}).json()
        updates = []
        for shipment in answer.get("trackResponse", {}).get("shipment", []):
            for package in shipment.get("package", []):
                for activity in package.get("activity", []):
                    status = activity.get("status", {})
                    where = activity.get("location", {}).get("address", {})
                    updates.append(_update(
                        package["trackingNumber"], status, where.get("city"),
                        where.get("countryCode"),
                        activity.get("gmtDate") or activity["date"],
                        activity.get("gmtTime") or activity["time"]))
        return updates

    @carrier_answer("void")
    def void(self, *, tracking_number):
        self._api("void", "DELETE", f"/api/shipments/{VERSION}/void/cancel/{tracking_number}")

    def parse_webhook(self, *, headers, body):
        given = headers.get("credential", "")
        if not given or not hmac.compare_digest(given.encode(),
                                                settings.UPS_WEBHOOK_CREDENTIAL.encode()):
            raise WebhookRejected(details={"carrier": self.code})
        event = json.loads(body)
        where = event.get("activityLocation", {})
        return [_update(event["trackingNumber"].strip(), event["activityStatus"],
                        where.get("city"), where.get("country"), event["gmtActivityDate"],
                        event["gmtActivityTime"])]


def _party(address: Address, account: str | None = None) -> dict:
    party = {"Name": address.name or address.city or "Receiver",
             "Address": {"AddressLine": [line for line in (address.line1, address.line2)
                                         if line],
                         "City": address.city, "StateProvinceCode": address.region,
                         "PostalCode": address.postal_code, "CountryCode": address.country}}
    if account:
        party["ShipperNumber"] = account
    return party


def _package(parcel) -> dict:
    return {"PackagingType": {"Code": "02"}, "Packaging": {"Code": "02"},
            "Dimensions": {"UnitOfMeasurement": {"Code": "CM"},
                           "Length": str(parcel.length_cm), "Width": str(parcel.width_cm),
                           "Height": str(parcel.height_cm)},
            "PackageWeight": {"UnitOfMeasurement": {"Code": "KGS"},
                              "Weight": str(parcel.weight_kg)}}


def _status(status: dict) -> str:
    kind, code = status.get("type", ""), status.get("code", "")
    if kind == "D":
        return "delivered"
    if kind == "X":
        return "exception"
    if code in ("OT", "OF"):
        return "out_for_delivery"
    if kind in ("M", "MV"):
        return "label_created"
    return "in_transit"


def _update(tracking_number, status, city, country, day: str, hhmmss: str) -> TrackingUpdate:
    return TrackingUpdate(
        tracking_number=tracking_number, status=_status(status),
        code=f"{status.get('type', '')}{status.get('code', '')}",
        description=status.get("description", ""),
        location=", ".join(p for p in (city, country) if p),
        occurred_at=datetime.strptime(day + hhmmss, "%Y%m%d%H%M%S").replace(tzinfo=UTC))
