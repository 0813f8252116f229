"""The local mailbox: every email the SMTP simulator accepted (the .eml files in
SIM_MAILBOX_DIR, default /tmp/commerce-mailbox), newest first, at http://127.0.0.1:8107/.
Open one to see its text and HTML parts and headers; GET /_sim/messages gives JSON."""

import email
import html
from email import policy
from pathlib import Path

from aiohttp import web

from simulators.notify_common import base_app
from simulators.smtp import mailbox_dir


def create_app() -> web.Application:
    app = base_app({})
    app.router.add_get("/", index)
    app.router.add_get("/messages/{name}", show)
    app.router.add_get("/_sim/messages", as_json)
    return app


def _files() -> list[Path]:
    directory = Path(mailbox_dir())
    return sorted(directory.glob("*.eml"), reverse=True) if directory.is_dir() else []


def _parse(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _summary(path: Path) -> dict:
    message = _parse(path)
    text = message.get_body(preferencelist=("plain",))
    return {"name": path.name, "to": str(message["To"] or ""),
            "subject": str(message["Subject"] or ""), "date": str(message["Date"] or ""),
            "message_id": str(message["Message-ID"] or "").strip("<>"),
            "text": text.get_content() if text is not None else ""}


async def index(request: web.Request) -> web.Response:
    rows = "".join(
        f"<tr><td>{html.escape(m['date'])}</td><td>{html.escape(m['to'])}</td>"
        f"<td><a href='/messages/{html.escape(m['name'])}'>{html.escape(m['subject'])}</a></td>"
        "</tr>" for m in map(_summary, _files()))
    return web.Response(content_type="text/html", text=(
        "<!DOCTYPE html><title>Local mailbox</title><h1>Local mailbox</h1>"
        f"<p>{html.escape(mailbox_dir())}</p><table border=1 cellpadding=4>"
        f"<tr><th>date</th><th>to</th><th>subject</th></tr>{rows}</table>"))


async def show(request: web.Request) -> web.Response:
    path = Path(mailbox_dir()) / request.match_info["name"]
    if path.suffix != ".eml" or path.parent != Path(mailbox_dir()) or not path.is_file():
        raise web.HTTPNotFound()
    message = _parse(path)
    text = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    headers = "".join(f"{html.escape(k)}: {html.escape(str(v))}\n" for k, v in message.items())
    iframe = (f"<iframe sandbox srcdoc=\"{html.escape(html_part.get_content())}\" "
              "style='width:100%;height:480px;border:1px solid #ccc'></iframe>"
              if html_part is not None else "")
    return web.Response(content_type="text/html", text=(
        f"<!DOCTYPE html><title>{html.escape(str(message['Subject']))}</title>"
        f"<p><a href='/'>← mailbox</a></p><pre>{headers}</pre>"
        f"<pre>{html.escape(text.get_content() if text is not None else '')}</pre>{iframe}"))


async def as_json(request: web.Request) -> web.Response:
    return web.json_response([_summary(p) for p in _files()])
