"""One simulated carrier service answering the FedEx, UPS and DHL Express APIs (under
/fedex, /ups and /dhl/mydhlapi), so every shipping path runs over real HTTP here.

Deterministic: rates follow a price table by service level, weight and zone; tracking
numbers derive from the caller's idempotency key (the same key gets the same parcel and
label back); labels are one-page PDFs. After its label is bought a parcel moves through a
scripted progression (picked up → in transit → out for delivery → delivered, or a delivery
exception for postal codes starting 999), one step every `step_seconds` (the
CARRIER_SIM_STEP_SECONDS setting; None: only when POST /_sim/advance asks), and each step
is pushed to `{webhook_url}/{carrier}/` signed the way that carrier signs.

Test hooks: GET /_sim/state, POST /_sim/faults {carrier, operation (token|rate|ship|track|
void|*), mode (error|timeout|garbage|refuse), times, delay, status, code, message}, DELETE
/_sim/faults, POST /_sim/advance {tracking_number, steps} (answers the events and the signed
webhook requests it built), POST /_sim/config {...}."""

import asyncio
import contextlib
import logging
import os
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web

from simulators.carriers import core, dhl, fedex, ups
from simulators.carriers.core import STATE, State

logger = logging.getLogger(__name__)

CARRIERS = {"fedex": fedex, "ups": ups, "dhl": dhl}
# The same variables (and development defaults) as the service's settings, so `make run`
# needs no configuration for the two to agree.
DEFAULTS = {
    "fedex_client_id": ("FEDEX_CLIENT_ID", "sim-fedex-client"),
    "fedex_client_secret": ("FEDEX_CLIENT_SECRET", "sim-fedex-secret"),
    "fedex_account": ("FEDEX_ACCOUNT_NUMBER", "740561073"),
    "fedex_webhook_secret": ("FEDEX_WEBHOOK_SECRET", "sim-fedex-webhook-token"),
    "ups_client_id": ("UPS_CLIENT_ID", "sim-ups-client"),
    "ups_client_secret": ("UPS_CLIENT_SECRET", "sim-ups-secret"),
    "ups_webhook_credential": ("UPS_WEBHOOK_CREDENTIAL", "sim-ups-track-alert-credential"),
    "dhl_api_key": ("DHL_API_KEY", "sim-dhl-key"),
    "dhl_api_secret": ("DHL_API_SECRET", "sim-dhl-secret"),
    "dhl_webhook_secret": ("DHL_WEBHOOK_SECRET", "sim-dhl-push-secret"),
}
_UNSET = object()


def create_app(*, step_seconds=_UNSET, webhook_url=_UNSET) -> web.Application:
    app = web.Application()
    config = {key: os.environ.get(var, default) for key, (var, default) in DEFAULTS.items()}
    if step_seconds is _UNSET:
        step_seconds = float(os.environ.get("CARRIER_SIM_STEP_SECONDS", "30")) or None
    if webhook_url is _UNSET:
        webhook_url = os.environ.get("CARRIER_SIM_WEBHOOK_URL",
                                     "http://127.0.0.1:8000/api/v1/shipping/webhooks")
    config.update(step_seconds=step_seconds, webhook_url=webhook_url or None)
    app[STATE] = State(config=config)
    for module in CARRIERS.values():
        module.add_routes(app)
    app.router.add_get("/_sim/state", sim_state)
    app.router.add_post("/_sim/faults", sim_fault)
    app.router.add_delete("/_sim/faults", sim_clear_faults)
    app.router.add_post("/_sim/advance", sim_advance)
    app.router.add_post("/_sim/config", sim_config)
    app.cleanup_ctx.append(_progress_in_background)
    return app


# --- tracking progressions and webhook pushes --------------------------------------------
def signed_webhooks(state: State, parcel: core.Shipment, event: dict) -> list[dict]:
    headers, body = CARRIERS[parcel.carrier].webhook(parcel, event, state.config)
    return [{"carrier": parcel.carrier, "headers": headers, "body": body.decode()}]


async def _push(state: State, requests: list[dict]) -> None:
    base = state.config.get("webhook_url")
    if not base:
        return
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        for request in requests:
            url = f"{base.rstrip('/')}/{request['carrier']}/"
            try:
                async with session.post(url, data=request["body"].encode(),
                                        headers=request["headers"]) as response:
                    outcome = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcome = type(exc).__name__
            state.pushes.append({"url": url, "outcome": outcome,
                                 "at": datetime.now(UTC).isoformat()})
            logger.info("pushed %s webhook to %s: %s", request["carrier"], url, outcome)


async def _step(state: State, parcel: core.Shipment) -> list[dict]:
    event = core.advance(parcel)
    if event is None:
        return []
    requests = signed_webhooks(state, parcel, event)
    await _push(state, requests)
    return requests


async def _progress_in_background(app: web.Application):
    state = app[STATE]

    async def loop():
        while True:
            await asyncio.sleep(1)
            seconds = state.config.get("step_seconds")
            if not seconds:
                continue
            now = datetime.now(UTC)
            for parcel in list(state.shipments.values()):
                due = parcel.created_at + timedelta(seconds=seconds * (parcel.step + 1))
                if not parcel.finished and due <= now:
                    await _step(state, parcel)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# --- /_sim endpoints -----------------------------------------------------------------------
async def sim_state(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({
        "shipments": [{"carrier": p.carrier, "tracking_number": p.tracking_number,
                       "reference": p.reference, "service_code": p.service_code,
                       "step": p.step, "voided": p.voided, "is_return": p.is_return,
                       "cost": str(p.cost), "destination": p.destination}
                      for p in state.shipments.values()],
        "calls": state.calls, "pushes": state.pushes,
        "faults": state.faults})


async def sim_fault(request: web.Request) -> web.Response:
    fault = await request.json()
    fault.setdefault("carrier", "*")
    fault.setdefault("operation", "*")
    fault.setdefault("times", 1)
    request.app[STATE].faults.append(fault)
    return web.json_response(fault, status=201)


async def sim_clear_faults(request: web.Request) -> web.Response:
    request.app[STATE].faults.clear()
    return web.json_response({})


async def sim_advance(request: web.Request) -> web.Response:
    body = await request.json()
    state = request.app[STATE]
    parcel = state.shipments.get(body.get("tracking_number", ""))
    if parcel is None:
        return web.json_response({"error": "unknown tracking number"}, status=404)
    requests = []
    for _ in range(int(body.get("steps", 1))):
        requests += await _step(state, parcel)
    return web.json_response({"tracking_number": parcel.tracking_number, "step": parcel.step,
                              "finished": parcel.finished, "webhooks": requests})


async def sim_config(request: web.Request) -> web.Response:
    request.app[STATE].config.update(await request.json())
    return web.json_response({k: v for k, v in request.app[STATE].config.items()
                              if "secret" not in k and "credential" not in k})
