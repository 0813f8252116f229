"""A demo subscriber to our webhooks: POST /webhooks verifies Commerce-Signature with its
secret (the helper subscribers copy, notifications/signature.py), answers 400 to a bad
signature and 200 otherwise, and keeps what it received. GET / shows it (latest first),
GET /_sim/received as JSON. Script it down with /_sim/faults ({"status": 503})."""

import html
import json
import time

from aiohttp import web

from notifications.signature import HEADER, InvalidSignature, verify
from simulators.notify_common import CONFIG, base_app, env, state_view

RECEIVED = web.AppKey("received", list)
DEMO_SECRET = "whsec_demo_local_receiver_secret"


def create_app() -> web.Application:
    app = base_app({"secret": env("SIM_WEBHOOK_SECRET", DEMO_SECRET)})
    app[RECEIVED] = []
    app.router.add_post("/webhooks", receive)
    app.router.add_get("/_sim/received", state_view(RECEIVED))
    app.router.add_get("/", page)
    return app


async def receive(request: web.Request) -> web.Response:
    raw = await request.read()
    try:
        verify(secret=request.app[CONFIG]["secret"], body=raw,
               header=request.headers.get(HEADER))
    except InvalidSignature as exc:
        return web.json_response({"error": str(exc)}, status=400)
    payload = json.loads(raw)
    request.app[RECEIVED].append({
        "received_at": time.time(), "event_id": payload["event_id"],
        "event_type": payload["event_type"], "aggregate_id": payload["aggregate_id"],
        "aggregate_version": payload["aggregate_version"],
        "attempt": request.headers.get("Commerce-Delivery-Attempt"), "payload": payload})
    return web.json_response({"received": True})


async def page(request: web.Request) -> web.Response:
    rows = "".join(
        f"<tr><td>{time.strftime('%H:%M:%S', time.localtime(r['received_at']))}</td>"
        f"<td>{html.escape(r['event_type'])}</td><td>{html.escape(r['aggregate_id'])}</td>"
        f"<td>{r['aggregate_version']}</td><td>{html.escape(str(r['attempt']))}</td>"
        f"<td>verified</td></tr>" for r in reversed(request.app[RECEIVED]))
    return web.Response(content_type="text/html", text=(
        "<!DOCTYPE html><title>Webhook receiver</title><h1>Signed webhooks received</h1>"
        "<table border=1 cellpadding=4><tr><th>at</th><th>event</th><th>aggregate</th>"
        f"<th>version</th><th>attempt</th><th>signature</th></tr>{rows}</table>"))
