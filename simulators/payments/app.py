"""HTTP routes of the payment processor simulator: Stripe's v1 endpoints and /_sim/ controls."""

import re
from dataclasses import asdict, fields, replace

from aiohttp import web

from simulators.payments.processor import (
    CURRENT_CALL,
    FAULT_MODES,
    TIMES_OUT,
    Call,
    Config,
    Processor,
    StripeError,
    dumps,
    invalid,
)

PROCESSOR = web.AppKey("processor", Processor)


@web.middleware
async def stripe_api(request: web.Request, handler):
    if not request.path.startswith("/v1/"):
        return await handler(request)
    processor = request.app[PROCESSOR]
    processor.stats["requests"] += 1
    call = Call()
    CURRENT_CALL.set(call)
    fault = processor.faults.popleft() if processor.faults else None
    if fault == "drop":  # the connection dies before the processor executes anything
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)  # never written: the transport is gone
    call.stall = fault == "stall"
    try:
        if fault == "error":
            raise StripeError(500, "api_error", "An unknown error occurred (injected).")
        call.api_key = _authenticate(request, processor)
        response = await handler(request)
    except web.HTTPException as exc:  # unknown URL or method: Stripe answers JSON too
        if exc.status < 400:
            raise
        response = _error(invalid(f"Unrecognized request URL ({request.method}: "
                                  f"{request.path}).", status=exc.status))
    except StripeError as exc:
        response = _error(exc)
    await processor.delay()
    if fault == "hang" or call.hang:
        await processor.hold()
    return response


def _authenticate(request: web.Request, processor: Processor) -> str:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise StripeError(401, "invalid_request_error",
                          "You did not provide an API key. You need to provide your API key "
                          "in the Authorization header, using Bearer auth (e.g. "
                          "'Authorization: Bearer YOUR_SECRET_KEY').")
    key = header[len("Bearer "):].strip()
    if key != processor.config.api_key:
        raise StripeError(401, "invalid_request_error",
                          f"Invalid API Key provided: {key[:8]}{'*' * 8}{key[-4:]}")
    return key


async def create_payment_intent(request: web.Request) -> web.Response:
    form = await request.post()
    amount = _int(form, "amount", required=True)
    currency = _currency(form)
    capture_method = form.get("capture_method", "automatic")
    if capture_method not in ("automatic", "automatic_async", "manual"):
        raise invalid(f"Invalid capture_method: {capture_method}", param="capture_method")
    payment_method = form.get("payment_method", "")
    confirm = _bool(form, "confirm")
    processor = request.app[PROCESSOR]
    return await processor.execute(
        request, form, lambda: processor.create_intent(
            amount=amount, currency=currency, payment_method=payment_method,
            capture_method=capture_method, confirm=confirm, metadata=_metadata(form),
            description=form.get("description")),
        hangs_first=confirm and payment_method == TIMES_OUT)


async def capture_payment_intent(request: web.Request) -> web.Response:
    form = await request.post()
    processor = request.app[PROCESSOR]
    intent = processor.intent(request.match_info["intent"])
    amount = _int(form, "amount_to_capture")
    return await processor.execute(request, form, lambda: processor.capture(intent, amount))


async def cancel_payment_intent(request: web.Request) -> web.Response:
    form = await request.post()
    processor = request.app[PROCESSOR]
    intent = processor.intent(request.match_info["intent"])
    return await processor.execute(
        request, form, lambda: processor.cancel(intent, form.get("cancellation_reason")))


async def retrieve_payment_intent(request: web.Request) -> web.Response:
    processor = request.app[PROCESSOR]
    intent = processor.intent(request.match_info["intent"])
    await processor.delay()
    return _json(intent)


async def search_payment_intents(request: web.Request) -> web.Response:
    processor = request.app[PROCESSOR]
    query = request.query.get("query")
    if not query:
        raise invalid("Missing required param: query.", code="parameter_missing",
                      param="query")
    matches = processor.search(query)
    limit = _limit(request)
    page_token = request.query.get("page") or "0"
    if not page_token.isdigit():
        raise invalid(f"Invalid page: {page_token}", param="page")
    offset = int(page_token)
    page = matches[offset:offset + limit]
    more = offset + limit < len(matches)
    await processor.delay()
    return _json({"object": "search_result", "url": "/v1/payment_intents/search",
                  "has_more": more, "next_page": str(offset + limit) if more else None,
                  "data": page})


async def create_refund(request: web.Request) -> web.Response:
    form = await request.post()
    processor = request.app[PROCESSOR]
    if not form.get("payment_intent"):
        raise invalid("Missing required param: payment_intent.", code="parameter_missing",
                      param="payment_intent")
    intent = processor.intent(form["payment_intent"], param="payment_intent")
    amount = _int(form, "amount")
    return await processor.execute(request, form, lambda: processor.refund(
        intent, amount, _metadata(form), form.get("reason")))


async def list_refunds(request: web.Request) -> web.Response:
    processor = request.app[PROCESSOR]
    intent_id = request.query.get("payment_intent")
    if intent_id:
        processor.intent(intent_id, param="payment_intent")
        ids = processor.refunds_by_intent.get(intent_id, [])
    else:
        ids = list(processor.refunds)
    refunds = [processor.refunds[i] for i in reversed(ids)]  # newest first, as Stripe lists
    limit = _limit(request)
    await processor.delay()
    return _json({"object": "list", "url": "/v1/refunds", "has_more": len(refunds) > limit,
                  "data": refunds[:limit]})


# --- test controls (/_sim/) -----------------------------------------------------------------
async def sim_config(request: web.Request) -> web.Response:
    processor = request.app[PROCESSOR]
    if request.method == "POST":
        changes = await request.json()
        unknown = set(changes) - {f.name for f in fields(Config)}
        if unknown:
            return _json({"error": f"unknown settings: {sorted(unknown)}"}, status=400)
        processor.config = replace(processor.config, **changes)
    return _json(asdict(processor.config))


async def sim_faults(request: web.Request) -> web.Response:
    processor = request.app[PROCESSOR]
    if request.method == "POST":
        body = await request.json()
        if body.get("mode") not in FAULT_MODES:
            return _json({"error": f"mode must be one of {FAULT_MODES}"}, status=400)
        processor.faults.extend([body["mode"]] * int(body.get("count", 1)))
    return _json({"pending": list(processor.faults)})


async def sim_payment_intents(request: web.Request) -> web.Response:
    processor = request.app[PROCESSOR]
    return _json({"object": "list", "data": [
        {**intent, "amount_refunded": processor.refunded[intent["id"]]}
        for intent in processor.intents.values()]})


async def sim_refunds(request: web.Request) -> web.Response:
    return _json({"object": "list", "data": list(request.app[PROCESSOR].refunds.values())})


async def sim_stats(request: web.Request) -> web.Response:
    processor = request.app[PROCESSOR]
    return _json({**processor.stats, "idempotency_keys": len(processor.idempotency),
                  "in_flight": processor.in_flight})


async def sim_release(request: web.Request) -> web.Response:
    request.app[PROCESSOR].release_held()
    return _json({"released": True})


async def sim_reset(request: web.Request) -> web.Response:
    request.app[PROCESSOR].reset()
    return _json({"reset": True})


def create_app(*, latency_ms: float | None = None, hang_seconds: float | None = None,
               timeouts_per_key: int | None = None, api_key: str | None = None
               ) -> web.Application:
    """The processor app; unset knobs come from the environment (see the module doc)."""
    config = Config.from_env(latency_ms=latency_ms, hang_seconds=hang_seconds,
                             timeouts_per_key=timeouts_per_key, api_key=api_key)
    app = web.Application(middlewares=[stripe_api])
    app[PROCESSOR] = Processor(config)
    add = app.router
    add.add_post("/v1/payment_intents", create_payment_intent)
    add.add_get("/v1/payment_intents/search", search_payment_intents)  # before /{intent}
    add.add_get("/v1/payment_intents/{intent}", retrieve_payment_intent)
    add.add_post("/v1/payment_intents/{intent}/capture", capture_payment_intent)
    add.add_post("/v1/payment_intents/{intent}/cancel", cancel_payment_intent)
    add.add_post("/v1/refunds", create_refund)
    add.add_get("/v1/refunds", list_refunds)
    add.add_route("*", "/_sim/config", sim_config)
    add.add_route("*", "/_sim/faults", sim_faults)
    add.add_get("/_sim/payment_intents", sim_payment_intents)
    add.add_get("/_sim/refunds", sim_refunds)
    add.add_get("/_sim/stats", sim_stats)
    add.add_post("/_sim/release", sim_release)
    add.add_post("/_sim/reset", sim_reset)
    return app


# --- helpers ---------------------------------------------------------------------------------
def _error(exc: StripeError) -> web.Response:
    status, body = exc.answer()
    return _json(body, status=status)


def _json(body, status: int = 200) -> web.Response:
    return web.Response(body=dumps(body), status=status, content_type="application/json")


def _int(form, name: str, *, required: bool = False) -> int | None:
    raw = form.get(name)
    if raw in (None, ""):
        if required:
            raise invalid(f"Missing required param: {name}.", code="parameter_missing",
                          param=name)
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise invalid(f"Invalid positive integer: {name}", code="parameter_invalid_integer",
                      param=name)
    return int(raw)


def _bool(form, name: str) -> bool:
    return form.get(name, "false").lower() == "true"


def _currency(form) -> str:
    currency = form.get("currency", "")
    if not re.fullmatch(r"[a-z]{3}", currency):
        raise invalid(f"Invalid currency: {currency}. Stripe currencies are three-letter "
                      f"ISO codes in lowercase.", param="currency")
    return currency


def _metadata(form) -> dict[str, str]:
    return {name[len("metadata["):-1]: value for name, value in form.items()
            if name.startswith("metadata[") and name.endswith("]")}


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "10")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise invalid("Invalid limit: must be between 1 and 100.", param="limit")
    return int(raw)
