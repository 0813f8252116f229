"""Simulated UPS APIs (developer.ups.com): OAuth client credentials (HTTP Basic), Rating
(Shop), Shipping (ship / void), Tracking, and Track Alert pushes, which carry the opaque
`credential` given when subscribing in a header of that name (UPS signs nothing else)."""

import base64
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aiohttp import BasicAuth, web

from simulators.carriers import core
from simulators.carriers.core import STATE

PREFIX = "/ups"
VERSION = "v2409"
SERVICES = {  # UPS service code → (our level, name)
    "03": ("economy", "UPS Ground"),
    "02": ("standard", "UPS 2nd Day Air"),
    "13": ("express", "UPS Next Day Air Saver"),
    "01": ("overnight", "UPS Next Day Air"),
}
# Our scripted status → UPS activity status (type, code, description).
ACTIVITY = {"picked_up": ("P", "XD", "Pickup Scan"), "in_transit": ("I", "OR", "On the Way"),
            "out_for_delivery": ("I", "OT", "Out for Delivery"),
            "delivered": ("D", "FS", "Delivered"),
            "exception": ("X", "DJ", "Delivery Attempted - Address Problem")}


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"response": {"errors": [{"code": code, "message": message}]}},
                             status=status)


async def _guard(request: web.Request, operation: str) -> web.Response | None:
    fault = core.take_fault(request.app[STATE], "ups", operation)
    if (answer := await core.apply_fault(fault, error)) is not None:
        return answer
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    expires = request.app[STATE].tokens.get(f"ups:{token}")
    if expires is None or expires < datetime.now(UTC):
        return error(401, "250002", "Invalid Authentication Information.")
    if not request.headers.get("transId") or not request.headers.get("transactionSrc"):
        return error(400, "VSS002", "Missing transId or transactionSrc.")
    return None


async def token(request: web.Request) -> web.Response:
    config = request.app[STATE].config
    fault = core.take_fault(request.app[STATE], "ups", "token")
    if (answer := await core.apply_fault(fault, error)) is not None:
        return answer
    try:
        auth = BasicAuth.decode(request.headers.get("Authorization", ""))
    except ValueError:
        auth = None
    form = await request.post()
    if auth is None or (auth.login, auth.password) != (
            config["ups_client_id"], config["ups_client_secret"]) or \
            form.get("grant_type") != "client_credentials":
        return error(401, "10401", "ClientId is Invalid")
    value = secrets.token_urlsafe(24)
    request.app[STATE].tokens[f"ups:{value}"] = datetime.now(UTC) + timedelta(hours=4)
    return web.json_response({"token_type": "Bearer", "issued_at": str(int(
        datetime.now(UTC).timestamp() * 1000)), "client_id": auth.login, "access_token": value,
        "expires_in": "14399", "status": "approved"})


def _address(party: dict) -> dict[str, str]:
    address = party.get("Address", {})
    lines = address.get("AddressLine") or [""]
    return {"name": party.get("Name", ""), "line1": lines[0], "city": address.get("City", ""),
            "region": address.get("StateProvinceCode", ""),
            "postal_code": address.get("PostalCode", ""),
            "country": address.get("CountryCode", "")}


def _package(shipment: dict) -> dict:
    packages = shipment.get("Package") or [{}]
    packages = packages if isinstance(packages, list) else [packages]
    weight = sum(Decimal(p.get("PackageWeight", {}).get("Weight", "0")) for p in packages)
    dims = packages[0].get("Dimensions", {})
    return {"weight": weight, "kg": core.billable_kg(weight, dims.get("Length"),
                                                     dims.get("Width"), dims.get("Height"))}


async def rating(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "rate")) is not None:
        return answer
    shipment = (await request.json()).get("RateRequest", {}).get("Shipment", {})
    origin, destination = _address(shipment.get("ShipFrom") or shipment.get("Shipper", {})), \
        _address(shipment.get("ShipTo", {}))
    if not destination["postal_code"] or not destination["country"]:
        return error(400, "111285", "The postal code is invalid for the ship to country.")
    kg = _package(shipment)["kg"]
    rated = []
    for code, (level, name) in SERVICES.items():
        price, days, eta = core.quote(level, kg, origin["country"], destination["country"])
        rated.append({"Service": {"Code": code, "Description": name},
                      "TotalCharges": {"CurrencyCode": "USD", "MonetaryValue": str(price)},
                      "GuaranteedDelivery": {"BusinessDaysInTransit": str(days)},
                      "TimeInTransit": {"ServiceSummary": {"EstimatedArrival": {
                          "Arrival": {"Date": eta.strftime("%Y%m%d")},
                          "BusinessDaysInTransit": str(days)}}}})
    return web.json_response({"RateResponse": {
        "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
        "RatedShipment": rated}})


async def ship(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "ship")) is not None:
        return answer
    reference = request.headers["transId"]
    body = (await request.json()).get("ShipmentRequest", {})
    shipment = body.get("Shipment", {})
    code = shipment.get("Service", {}).get("Code")
    destination = _address(shipment.get("ShipTo", {}))
    if code not in SERVICES:
        return error(400, "120050", f"Invalid service code {code}.")
    if destination["postal_code"] == core.REFUSED_POSTAL_CODE:
        return error(400, "120802", "The address is not valid for the ship to country.")
    origin = _address(shipment.get("ShipFrom") or shipment.get("Shipper", {}))
    package = _package(shipment)
    price, _, _ = core.quote(SERVICES[code][0], package["kg"], origin["country"],
                             destination["country"])
    account = shipment.get("Shipper", {}).get("ShipperNumber", "000000")[:6].upper()
    number = f"1Z{account.ljust(6, '0')}{code}{core.digits(f'ups:{reference}', 8)}"
    parcel = core.register_shipment(request.app[STATE], core.Shipment(
        carrier="ups", tracking_number=number, reference=reference, service_code=code,
        origin=origin, destination=destination, weight_kg=package["weight"], cost=price,
        currency="USD", is_return=bool(shipment.get("ReturnService"))))
    label = core.pdf_label(core.label_lines(parcel, "UPS"))
    return web.json_response({"ShipmentResponse": {
        "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"},
                     "TransactionReference": {"CustomerContext": reference}},
        "ShipmentResults": {
            "ShipmentCharges": {"TotalCharges": {"CurrencyCode": parcel.currency,
                                                 "MonetaryValue": str(parcel.cost)}},
            "ShipmentIdentificationNumber": parcel.tracking_number,
            "PackageResults": [{"TrackingNumber": parcel.tracking_number, "ShippingLabel": {
                "ImageFormat": {"Code": "PDF", "Description": "PDF"},
                "GraphicImage": base64.b64encode(label).decode()}}]}}})


async def void(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "void")) is not None:
        return answer
    parcel = request.app[STATE].shipments.get(request.match_info["number"])
    if parcel is None or parcel.carrier != "ups":
        return error(400, "190102", "No shipment found within the allowed void period.")
    if parcel.step > 0 and not parcel.voided:
        return error(400, "190117", "The shipment has been picked up and cannot be voided.")
    parcel.voided = True
    return web.json_response({"VoidShipmentResponse": {
        "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
        "SummaryResult": {"Status": {"Code": "1", "Description": "Voided"}}}})


def activity(event: dict) -> dict:
    kind, code, text = ACTIVITY[event["status"]]
    at = event["at"]
    return {"location": {"address": {"city": event["city"], "stateProvince": event["region"],
                                     "countryCode": event["country"]}},
            "status": {"type": kind, "code": code, "description": text},
            "date": at.strftime("%Y%m%d"), "time": at.strftime("%H%M%S"),
            "gmtDate": at.strftime("%Y%m%d"), "gmtTime": at.strftime("%H%M%S"),
            "gmtOffset": "+00:00"}


async def track(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "track")) is not None:
        return answer
    number = request.match_info["number"]
    parcel = request.app[STATE].shipments.get(number)
    if parcel is None or parcel.carrier != "ups":
        return error(404, "TW0001", "Tracking Information Not Found")
    activities = [activity(e) for e in reversed(parcel.events)]
    current = activities[0]["status"] if activities else {"code": "MP", "type": "M",
                                                          "description": "Label Created"}
    return web.json_response({"trackResponse": {"shipment": [{
        "inquiryNumber": number, "package": [{
            "trackingNumber": number, "currentStatus": {"code": current["code"],
                                                        "description": current["description"]},
            "activity": activities}]}]}})


def webhook(parcel: core.Shipment, event: dict, config: dict) -> tuple[dict, bytes]:
    kind, code, text = ACTIVITY[event["status"]]
    at = event["at"]
    delivered = event["status"] == "delivered"
    body = json.dumps({
        "trackingNumber": parcel.tracking_number,
        "localActivityDate": at.strftime("%Y%m%d"), "localActivityTime": at.strftime("%H%M%S"),
        "gmtActivityDate": at.strftime("%Y%m%d"), "gmtActivityTime": at.strftime("%H%M%S"),
        "activityLocation": {"city": event["city"], "stateProvince": event["region"],
                             "postalCode": event["postal_code"] if delivered else "",
                             "country": event["country"]},
        "activityStatus": {"type": kind, "code": code, "description": text,
                           "descriptionCode": str(uuid.uuid5(uuid.NAMESPACE_OID, code).int
                                                  % 1000).zfill(3)},
        "scheduledDeliveryDate": "", "actualDeliveryDate": at.strftime("%Y%m%d")
        if delivered else "", "actualDeliveryTime": at.strftime("%H%M%S") if delivered else "",
    }).encode()
    return {"credential": config["ups_webhook_credential"],
            "User-Agent": "UPSPubSubTrackingService", "Content-Type": "application/json"}, body


def add_routes(app: web.Application) -> None:
    app.router.add_post(f"{PREFIX}/security/v1/oauth/token", token)
    app.router.add_post(f"{PREFIX}/api/rating/{VERSION}/Shop", rating)
    app.router.add_post(f"{PREFIX}/api/shipments/{VERSION}/ship", ship)
    app.router.add_delete(f"{PREFIX}/api/shipments/{VERSION}/void/cancel/{{number}}", void)
    app.router.add_get(f"{PREFIX}/api/track/v1/details/{{number}}", track)
