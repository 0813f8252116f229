"""A Slack incoming-webhook endpoint: POST /services/{T}/{B}/{secret} with JSON {"text"}
answers 200 "ok" (text/plain, as Slack does); no text answers 400 "invalid_payload"; a
webhook path ending in "archived" answers 410 "channel_is_archived". GET /_sim/messages
lists the posted messages."""

from aiohttp import web

from simulators.notify_common import base_app, state_view

MESSAGES = web.AppKey("messages", list)


def create_app() -> web.Application:
    app = base_app({})
    app[MESSAGES] = []
    app.router.add_post("/services/{team}/{bot}/{secret}", post)
    app.router.add_get("/_sim/messages", state_view(MESSAGES))
    return app


async def post(request: web.Request) -> web.Response:
    if request.match_info["secret"].endswith("archived"):
        return web.Response(status=410, text="channel_is_archived")
    try:
        body = await request.json()
        text = body["text"]
    except (ValueError, KeyError, TypeError):
        return web.Response(status=400, text="invalid_payload")
    if not isinstance(text, str) or not text.strip():
        return web.Response(status=400, text="invalid_payload")
    request.app[MESSAGES].append({"path": request.path, "text": text})
    return web.Response(text="ok")
