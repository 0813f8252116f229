"""Simulated DHL Express MyDHL API (developer.dhl.com, HTTP Basic auth): rates, shipments
(label), tracking, and tracking pushes modelled on DHL's unified push API. The push is
signed with the subscription secret: `DHL-Timestamp` (unix seconds) and
`DHL-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, so a receiver
can refuse stale or replayed pushes. MyDHL API has no label void: an Express label is only
billed once the parcel is picked up."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from decimal import Decimal

from aiohttp import BasicAuth, web

from simulators.carriers import core
from simulators.carriers.core import STATE

PREFIX = "/dhl/mydhlapi"
PRODUCTS = {  # DHL product code → (our level, name)
    "G": ("economy", "ECONOMY SELECT"),
    "N": ("standard", "EXPRESS DOMESTIC"),
    "P": ("express", "EXPRESS WORLDWIDE"),
    "K": ("overnight", "EXPRESS 9:00"),
}
# Our scripted status → DHL Express checkpoint code, unified status code, description.
CHECKPOINTS = {"picked_up": ("PU", "transit", "Shipment picked up"),
               "in_transit": ("AF", "transit", "Arrived at DHL Sort Facility"),
               "out_for_delivery": ("WC", "transit", "With delivery courier"),
               "delivered": ("OK", "delivered", "Delivered"),
               "exception": ("BA", "failure", "Bad address, delivery attempted")}


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"instance": "/expressapi", "detail": message, "title": code,
                              "message": message, "status": str(status)}, status=status)


async def _guard(request: web.Request, operation: str) -> web.Response | None:
    fault = core.take_fault(request.app[STATE], "dhl", operation)
    if (answer := await core.apply_fault(fault, error)) is not None:
        return answer
    config = request.app[STATE].config
    try:
        auth = BasicAuth.decode(request.headers.get("Authorization", ""))
    except ValueError:
        auth = None
    if auth is None or (auth.login, auth.password) != (config["dhl_api_key"],
                                                       config["dhl_api_secret"]):
        return error(401, "Unauthorized", "Invalid credentials")
    return None


def _address(details: dict) -> dict[str, str]:
    postal = details.get("postalAddress", details)
    contact = details.get("contactInformation", {})
    return {"name": contact.get("fullName", ""), "line1": postal.get("addressLine1", ""),
            "city": postal.get("cityName", ""), "region": postal.get("provinceCode", ""),
            "postal_code": postal.get("postalCode", ""),
            "country": postal.get("countryCode", "")}


def _package(packages: list[dict]) -> dict:
    packages = packages or [{}]
    weight = sum(Decimal(str(p.get("weight", 0))) for p in packages)
    dims = packages[0].get("dimensions", {})
    return {"weight": weight, "kg": core.billable_kg(weight, dims.get("length"),
                                                     dims.get("width"), dims.get("height"))}


async def rates(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "rate")) is not None:
        return answer
    body = await request.json()
    customer = body.get("customerDetails", {})
    origin = _address(customer.get("shipperDetails", {}))
    destination = _address(customer.get("receiverDetails", {}))
    if not destination["postal_code"] or not destination["country"]:
        return error(400, "Bad request", "receiverDetails.postalCode is required")
    kg = _package(body.get("packages", []))["kg"]
    products = []
    for code, (level, name) in PRODUCTS.items():
        price, days, eta = core.quote(level, kg, origin["country"], destination["country"])
        products.append({
            "productName": name, "productCode": code, "localProductCode": code,
            "networkTypeCode": "TD", "weight": {"provided": float(kg),
                                                "unitOfMeasurement": "metric"},
            "totalPrice": [{"currencyType": "BILLC", "priceCurrency": "USD",
                            "price": float(price)}],
            "deliveryCapabilities": {"deliveryTypeCode": "QDDC", "totalTransitDays": days,
                                     "estimatedDeliveryDateAndTime":
                                         f"{eta.isoformat()}T23:59:00"}})
    return web.json_response({"products": products})


async def shipments(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "ship")) is not None:
        return answer
    reference = request.headers.get("Message-Reference", "")
    body = await request.json()
    code = body.get("productCode")
    customer = body.get("customerDetails", {})
    destination = _address(customer.get("receiverDetails", {}))
    if code not in PRODUCTS:
        return error(400, "Bad request", f"productCode {code} is not available")
    if destination["postal_code"] == core.REFUSED_POSTAL_CODE:
        return error(422, "Unprocessable Entity", "The receiver address is not serviceable")
    origin = _address(customer.get("shipperDetails", {}))
    package = _package(body.get("content", {}).get("packages", []))
    price, _, _ = core.quote(PRODUCTS[code][0], package["kg"], origin["country"],
                             destination["country"])
    services = {s.get("serviceCode") for s in body.get("valueAddedServices", [])}
    parcel = core.register_shipment(request.app[STATE], core.Shipment(
        carrier="dhl", tracking_number=core.digits(f"dhl:{reference}", 10),
        reference=reference, service_code=code, origin=origin, destination=destination,
        weight_kg=package["weight"], cost=price, currency="USD", is_return="PT" in services))
    label = core.pdf_label(core.label_lines(parcel, "DHL Express"))
    return web.json_response({
        "shipmentTrackingNumber": parcel.tracking_number,
        "trackingUrl": f"{PREFIX}/shipments/{parcel.tracking_number}/tracking",
        "packages": [{"referenceNumber": 1, "trackingNumber": f"JD01{parcel.tracking_number}"}],
        "documents": [{"imageFormat": "PDF", "typeCode": "label",
                       "content": base64.b64encode(label).decode()}],
        "shipmentCharges": [{"currencyType": "BILLC", "priceCurrency": parcel.currency,
                             "price": float(parcel.cost)}]}, status=201)


def checkpoint(event: dict) -> dict:
    code, _, text = CHECKPOINTS[event["status"]]
    at = event["at"]
    return {"date": at.date().isoformat(), "time": at.strftime("%H:%M:%S"),
            "GMTOffset": "+00:00", "typeCode": code, "description": text,
            "serviceArea": [{"code": event["city"][:3].upper(),
                             "description": f"{event['city']}-{event['country']}"}]}


async def tracking(request: web.Request) -> web.Response:
    if (answer := await _guard(request, "track")) is not None:
        return answer
    parcel = request.app[STATE].shipments.get(request.match_info["number"])
    if parcel is None or parcel.carrier != "dhl":
        return error(404, "Not Found", "No shipment found for this tracking number")
    return web.json_response({"shipments": [{
        "shipmentTrackingNumber": parcel.tracking_number, "status": "Success",
        "productCode": parcel.service_code, "description": "parcel",
        "events": [checkpoint(e) for e in parcel.events]}]})


def webhook(parcel: core.Shipment, event: dict, config: dict) -> tuple[dict, bytes]:
    code, status_code, text = CHECKPOINTS[event["status"]]
    body = json.dumps({"shipments": [{"id": parcel.tracking_number, "service": "express",
                                      "events": [{
                                          "timestamp": event["at"].isoformat(),
                                          "statusCode": status_code, "status": code,
                                          "description": text,
                                          "location": {"address": {
                                              "addressLocality": event["city"],
                                              "countryCode": event["country"]}}}]}]}).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(config["dhl_webhook_secret"].encode(), f"{timestamp}.".encode() + body,
                      hashlib.sha256).hexdigest()
    return {"DHL-Timestamp": timestamp, "DHL-Signature": f"sha256={digest}",
            "Content-Type": "application/json", "Message-Reference": str(uuid.uuid4())}, body


def add_routes(app: web.Application) -> None:
    app.router.add_post(f"{PREFIX}/rates", rates)
    app.router.add_post(f"{PREFIX}/shipments", shipments)
    app.router.add_get(f"{PREFIX}/shipments/{{number}}/tracking", tracking)
