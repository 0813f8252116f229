"""A Twilio-like SMS API: POST /2010-04-01/Accounts/{sid}/Messages.json (form-encoded To,
From, Body, StatusCallback; HTTP Basic auth with the account sid and auth token) answers
201 {"sid": "SM…", "status": "queued"}; then, like Twilio, POSTs the message's status
("sent", then "delivered", or "undelivered" for a number ending in 0000) to StatusCallback,
signed with X-Twilio-Signature. An Idempotency-Key header repeats the first answer.

Refusals as Twilio's: 401 (bad credentials), 400 code 21211 (To is not a valid number),
400 code 21602 (empty Body). GET /_sim/messages lists what was accepted."""

import base64
import itertools
import re
from urllib.parse import urlencode

from aiohttp import web

from notifications.signature import twilio_signature
from simulators.notify_common import CALLBACKS, CONFIG, base_app, env, state_view

MESSAGES = web.AppKey("messages", list)
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def create_app() -> web.Application:
    app = base_app({
        "account_sid": env("SIM_SMS_ACCOUNT_SID", "AC00000000000000000000000000000000"),
        "auth_token": env("SIM_SMS_AUTH_TOKEN", "dev-sms-auth-token"),
        "receipt_delay": float(env("SIM_SMS_RECEIPT_DELAY", "0.3")),
    })
    app[MESSAGES] = []
    app["by_key"] = {}
    app["counter"] = itertools.count(1)
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", send)
    app.router.add_get("/_sim/messages", state_view(MESSAGES))
    return app


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "status": status},
                             status=status)


async def send(request: web.Request) -> web.Response:
    app, config = request.app, request.app[CONFIG]
    expected = "Basic " + base64.b64encode(
        f"{config['account_sid']}:{config['auth_token']}".encode()).decode()
    if request.headers.get("Authorization") != expected or \
            request.match_info["sid"] != config["account_sid"]:
        return _error(401, 20003, "Authenticate")
    key = request.headers.get("Idempotency-Key")
    if key and key in app["by_key"]:
        return web.json_response(app["by_key"][key], status=201)
    form = await request.post()
    to, body = form.get("To", ""), form.get("Body", "")
    if not E164.match(to):
        return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not body:
        return _error(400, 21602, "Message body is required.")
    sid = f"SM{next(app['counter']):032x}"
    answer = {"sid": sid, "status": "queued", "to": to, "from": form.get("From", ""),
              "body": body}
    app[MESSAGES].append(answer)
    if key:
        app["by_key"][key] = answer
    callback = form.get("StatusCallback", "")
    final = ("undelivered", "30003") if to.endswith("0000") else ("delivered", "")
    for i, (status, error) in enumerate((("sent", ""), final)):
        app[CALLBACKS].schedule(url=callback, delay=config["receipt_delay"] * (i + 1),
                          build=_receipt(config, callback, sid, to, status, error))
    return web.json_response(answer, status=201)


def _receipt(config, url, sid, to, status, error):
    def build():
        params = {"MessageSid": sid, "MessageStatus": status, "To": to,
                  "AccountSid": config["account_sid"]}
        if error:
            params["ErrorCode"] = error
        signature = twilio_signature(auth_token=config["auth_token"], url=url, params=params)
        return urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature}
    return build
