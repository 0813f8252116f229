"""An FCM-like push API (FCM HTTP v1's shape): POST /v1/projects/{project}/messages:send
with `Authorization: Bearer <token>` and {"message": {"token", "notification": {"title",
"body"}, "data"}} answers {"name": "projects/{project}/messages/{id}"}; then POSTs a
delivery receipt {"message_id", "status": "delivered"} to the configured receipt URL,
signed with Commerce-Signature (FCM itself reports delivery through its data export; the
service takes receipts from any push provider this way). An Idempotency-Key header repeats
the first answer.

Refusals as FCM's: 401 UNAUTHENTICATED, 400 INVALID_ARGUMENT (no token, no notification),
404 NOT_FOUND/UNREGISTERED for a token starting with "unregistered"."""

import itertools

from aiohttp import web

from notifications.signature import HEADER, sign
from simulators.notify_common import CALLBACKS, CONFIG, base_app, env, json_body, state_view

MESSAGES = web.AppKey("messages", list)


def create_app() -> web.Application:
    app = base_app({
        "api_token": env("SIM_PUSH_API_TOKEN", "dev-push-token"),
        "receipt_url": env("SIM_PUSH_RECEIPT_URL",
                           "http://127.0.0.1:8000/api/v1/notifications/receipts/push/"),
        "receipt_secret": env("SIM_PUSH_RECEIPT_SECRET", "dev-push-receipt-secret"),
        "receipt_delay": float(env("SIM_PUSH_RECEIPT_DELAY", "0.3")),
    })
    app[MESSAGES] = []
    app["by_key"] = {}
    app["counter"] = itertools.count(1)
    app.router.add_post("/v1/projects/{project}/messages:send", send)
    app.router.add_get("/_sim/messages", state_view(MESSAGES))
    return app


def _error(status: int, state: str, message: str, code: str | None = None) -> web.Response:
    error = {"code": status, "message": message, "status": state}
    if code:
        error["details"] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                             "errorCode": code}]
    return web.json_response({"error": error}, status=status)


async def send(request: web.Request) -> web.Response:
    app, config = request.app, request.app[CONFIG]
    if request.headers.get("Authorization") != f"Bearer {config['api_token']}":
        return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    key = request.headers.get("Idempotency-Key")
    if key and key in app["by_key"]:
        return web.json_response(app["by_key"][key])
    try:
        message = (await request.json())["message"]
        token, notification = message["token"], message["notification"]
    except (ValueError, KeyError, TypeError):
        return _error(400, "INVALID_ARGUMENT", "message.token and message.notification "
                      "are required.", "INVALID_ARGUMENT")
    if not token:
        return _error(400, "INVALID_ARGUMENT", "The registration token is empty.",
                      "INVALID_ARGUMENT")
    if token.startswith("unregistered"):
        return _error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
    name = f"projects/{request.match_info['project']}/messages/0:{next(app['counter']):016d}"
    app[MESSAGES].append({"name": name, "token": token, "notification": notification,
                          "data": message.get("data", {})})
    answer = {"name": name}
    if key:
        app["by_key"][key] = answer

    def build():
        body = json_body({"message_id": name, "status": "delivered", "token": token})
        return body, {"Content-Type": "application/json",
                      HEADER: sign(secret=config["receipt_secret"], body=body)}

    app[CALLBACKS].schedule(url=config["receipt_url"], delay=config["receipt_delay"], build=build)
    return web.json_response(answer)
