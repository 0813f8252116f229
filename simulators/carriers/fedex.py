"""Simulated FedEx REST APIs (developer.fedex.com): OAuth client credentials, Rates and
Transit Times, Ship (create / cancel), Track, and the tracking webhook (Advanced Integrated
Visibility), whose body is signed: header `fdx-signature` = base64(HMAC-SHA256(security
token, raw body))."""

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aiohttp import web

from simulators.carriers import core
from simulators.carriers.core import STATE

PREFIX = "/fedex"
SERVICES = {  # FedEx service type → (our level, name)
    "FEDEX_GROUND": ("economy", "FedEx Ground"),
    "FEDEX_2_DAY": ("standard", "FedEx 2Day"),
    "STANDARD_OVERNIGHT": ("express", "FedEx Standard Overnight"),
    "PRIORITY_OVERNIGHT": ("overnight", "FedEx Priority Overnight"),
}
# Our scripted status → FedEx derived status code and description.
SCANS = {"picked_up": ("PU", "Picked up"), "in_transit": ("IT", "In transit"),
         "out_for_delivery": ("OD", "On FedEx vehicle for delivery"),
         "delivered": ("DL", "Delivered"), "exception": ("DE", "Delivery exception")}


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"transactionId": str(uuid.uuid4()),
                              "errors": [{"code": code, "message": message}]}, status=status)


def _authorized(request: web.Request) -> bool:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    expires = request.app[STATE].tokens.get(f"fedex:{token}")
    return expires is not None and expires > datetime.now(UTC)


async def _guard(request: web.Request, operation: str) -> web.Response | None:
    fault = core.take_fault(request.app[STATE], "fedex", operation)
    if (answer := await core.apply_fault(fault, error)) is not None:
        return answer
    if not _authorized(request):
        return error(401, "NOT.AUTHORIZED.ERROR", "Access token expired. Please modify your "
                                                  "request and try again.")
    return None


async def token(request: web.Request) -> web.Response:
    form = await request.post()
    config = request.app[STATE].config
    fault = core.take_fault(request.app[STATE], "fedex", "token")
    if (answer := await core.apply_fault(fault, error)) is not None:
        return answer
    if form.get("grant_type") != "client_credentials" or (
            form.get("client_id"), form.get("client_secret")) != (
            config["fedex_client_id"], config["fedex_client_secret"]):
        return error(401, "NOT.AUTHORIZED.ERROR", "The given client credentials were not "
                                                  "valid. Please modify your request.")
    value = secrets.token_urlsafe(24)
    request.app[STATE].tokens[f"fedex:{value}"] = datetime.now(UTC) + timedelta(hours=1)
    return web.json_response({"access_token": value, "token_type": "bearer",
                              "expires_in": 3599, "scope": "CXS"})


def _package(shipment: dict) -> dict:
    items = shipment.get("requestedPackageLineItems") or [{}]
    weight = sum(Decimal(str(i.get("weight", {}).get("value", 0))) for i in items)
    dims = items[0].get("dimensions", {})
    return {"kg": core.billable_kg(weight, dims.get("length"), dims.get("width"),
                                   dims.get("height")), "weight": weight}


async def rates(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "rate")) is not None:
        return answer
    body = await request.json()
    shipment = body.get("requestedShipment", {})
    origin = shipment.get("shipper", {}).get("address", {})
    destination = shipment.get("recipient", {}).get("address", {})
    if not destination.get("countryCode") or not destination.get("postalCode"):
        return error(400, "RECIPIENT.POSTALCODE.INVALID", "Recipient postal code is invalid.")
    currency = shipment.get("preferredCurrency") or "USD"
    kg = _package(shipment)["kg"]
    details = []
    for service_type, (level, name) in SERVICES.items():
        price, days, eta = core.quote(level, kg, origin.get("countryCode"),
                                      destination["countryCode"])
        details.append({
            "serviceType": service_type, "serviceName": name,
            "packagingType": "YOUR_PACKAGING",
            "ratedShipmentDetails": [{"rateType": "ACCOUNT", "totalNetCharge": float(price),
                                      "totalNetFedExCharge": float(price),
                                      "currency": currency}],
            "commit": {"dateDetail": {"dayFormat": f"{eta.isoformat()}T23:59:00"},
                       "transitDays": {"description": f"{days} Business Days"}},
        })
    return web.json_response({"transactionId": str(uuid.uuid4()),
                              "output": {"rateReplyDetails": details,
                                         "quoteDate": datetime.now(UTC).date().isoformat()}})


def _address(party: dict) -> dict[str, str]:
    address = party.get("address", {})
    contact = party.get("contact", {})
    lines = address.get("streetLines") or [""]
    return {"name": contact.get("personName", ""), "line1": lines[0],
            "city": address.get("city", ""), "region": address.get("stateOrProvinceCode", ""),
            "postal_code": address.get("postalCode", ""),
            "country": address.get("countryCode", "")}


async def ship(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "ship")) is not None:
        return answer
    reference = request.headers.get("x-customer-transaction-id", "")
    body = await request.json()
    shipment = body.get("requestedShipment", {})
    service_type = shipment.get("serviceType")
    destination = _address((shipment.get("recipients") or [{}])[0])
    if service_type not in SERVICES:
        return error(400, "SERVICETYPE.NOT.SUPPORTED", f"Service {service_type} is invalid.")
    if destination["postal_code"] == core.REFUSED_POSTAL_CODE:
        return error(422, "RECIPIENT.ADDRESS.INVALID", "The recipient address is invalid.")
    origin = _address(shipment.get("shipper", {}))
    package = _package(shipment)
    price, _, _ = core.quote(SERVICES[service_type][0], package["kg"], origin["country"],
                             destination["country"])
    special = shipment.get("shipmentSpecialServices", {}).get("specialServiceTypes", [])
    parcel = core.register_shipment(request.app[STATE], core.Shipment(
        carrier="fedex", tracking_number=core.digits(f"fedex:{reference}", 12),
        reference=reference, service_code=service_type, origin=origin,
        destination=destination, weight_kg=package["weight"], cost=price,
        currency=shipment.get("preferredCurrency") or "USD",
        is_return="RETURN_SHIPMENT" in special))
    label = core.pdf_label(core.label_lines(parcel, "FedEx"))
    return web.json_response({
        "transactionId": str(uuid.uuid4()), "customerTransactionId": reference,
        "output": {"transactionShipments": [{
            "masterTrackingNumber": parcel.tracking_number, "serviceType": service_type,
            "shipDatestamp": parcel.created_at.date().isoformat(),
            "pieceResponses": [{"trackingNumber": parcel.tracking_number, "packageDocuments": [
                {"contentType": "LABEL", "docType": "PDF",
                 "encodedLabel": base64.b64encode(label).decode()}]}],
            "completedShipmentDetail": {"shipmentRating": {"shipmentRateDetails": [
                {"rateType": "ACCOUNT", "totalNetCharge": float(parcel.cost),
                 "currency": parcel.currency}]}},
        }]}})


async def cancel(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "void")) is not None:
        return answer
    body = await request.json()
    parcel = request.app[STATE].shipments.get(body.get("trackingNumber", ""))
    if parcel is None or parcel.carrier != "fedex":
        return error(404, "TRACKING.TRACKINGNUMBER.NOTFOUND", "Tracking number not found.")
    if parcel.step > 0 and not parcel.voided:
        return error(400, "SHIPMENT.CANCEL.NOTALLOWED",
                     "The shipment was tendered to FedEx and cannot be cancelled.")
    parcel.voided = True
    return web.json_response({"transactionId": str(uuid.uuid4()), "output": {
        "cancelledShipment": True, "cancelledHistory": True,
        "message": "Shipment is successfully cancelled"}})


def scan_event(event: dict) -> dict:
    code, text = SCANS[event["status"]]
    return {"date": event["at"].isoformat(), "eventType": code, "eventDescription": text,
            "derivedStatusCode": code, "derivedStatus": text,
            "scanLocation": {"city": event["city"].upper(),
                             "stateOrProvinceCode": event["region"],
                             "countryCode": event["country"]}}


async def track(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "track")) is not None:
        return answer
    body = await request.json()
    results = []
    for info in body.get("trackingInfo", []):
        number = info.get("trackingNumberInfo", {}).get("trackingNumber", "")
        parcel = request.app[STATE].shipments.get(number)
        if parcel is None or parcel.carrier != "fedex":
            results.append({"trackingNumber": number, "trackResults": [{"error": {
                "code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
                "message": "Tracking number cannot be found."}}]})
            continue
        scans = [scan_event(e) for e in reversed(parcel.events)]  # newest first, as FedEx
        latest = scans[0] if scans else {"derivedStatusCode": "OC",
                                         "derivedStatus": "Label created"}
        results.append({"trackingNumber": number, "trackResults": [{
            "trackingNumberInfo": {"trackingNumber": number},
            "latestStatusDetail": {"code": latest["derivedStatusCode"],
                                   "derivedCode": latest["derivedStatusCode"],
                                   "statusByLocale": latest["derivedStatus"]},
            "scanEvents": scans}]})
    return web.json_response({"transactionId": str(uuid.uuid4()),
                              "output": {"completeTrackResults": results}})


def webhook(parcel: core.Shipment, event: dict, config: dict) -> tuple[dict, bytes]:
    body = json.dumps({"trackingNumber": parcel.tracking_number,
                       "accountNumber": config["fedex_account"],
                       "scanEvents": [scan_event(event)]}).encode()
    digest = hmac.new(config["fedex_webhook_secret"].encode(), body, hashlib.sha256).digest()
    return {"fdx-signature": base64.b64encode(digest).decode(),
            "Content-Type": "application/json"}, body


def add_routes(app: web.Application) -> None:
    app.router.add_post(f"{PREFIX}/oauth/token", token)
    app.router.add_post(f"{PREFIX}/rate/v1/rates/quotes", rates)
    app.router.add_post(f"{PREFIX}/ship/v1/shipments", ship)
    app.router.add_put(f"{PREFIX}/ship/v1/shipments/cancel", cancel)
    app.router.add_post(f"{PREFIX}/track/v1/trackingnumbers", track)
