"""A real SMTP server (aiosmtpd) standing in for the mail provider. Every accepted message is
kept in memory and written as an .eml file to the mailbox folder (SIM_MAILBOX_DIR, default
/tmp/commerce-mailbox), which the `mailbox` simulator shows at http://127.0.0.1:8107/.

Like a provider's event webhook, it then POSTs a receipt per recipient to
SIM_EMAIL_RECEIPT_URL, signed with Commerce-Signature: {"message_id": <Message-ID without
<>>, "event": "delivered" | "bounced", "recipient"}. A recipient at @bounce.test is
accepted and then bounces; one at @reject.test is refused at RCPT (550). `faults` makes
the next messages fail with a code (451: try later, 554: refused)."""

import contextlib
import email
import itertools
import os
import re
import time
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from notifications.signature import HEADER, sign
from simulators.notify_common import Callbacks, env, json_body


class Mailbox:
    def __init__(self, directory: str | None):
        self.messages: list[dict] = []
        self.directory = Path(directory) if directory else None
        self.counter = itertools.count(1)
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.counter = itertools.count(len(list(self.directory.glob("*.eml"))) + 1)

    def add(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> dict:
        parsed = email.message_from_bytes(content, policy=policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        stored = {
            "n": next(self.counter), "received_at": time.time(), "mail_from": mail_from,
            "rcpt_tos": list(rcpt_tos), "message_id": (parsed["Message-ID"] or "").strip("<>"),
            "subject": str(parsed["Subject"] or ""), "to": str(parsed["To"] or ""),
            "headers": {k: str(v).strip() for k, v in parsed.items()},
            "text": text.get_content() if text is not None else "",
            "html": html.get_content() if html is not None else "",
        }
        self.messages.append(stored)
        if self.directory:
            slug = re.sub(r"[^A-Za-z0-9]+", "-", stored["message_id"])[:60]
            (self.directory / f"{stored['n']:05d}-{slug}.eml").write_bytes(content)
        return stored


class MailHandler:
    def __init__(self, mailbox: Mailbox, config: dict):
        self.mailbox = mailbox
        self.config = config
        self.faults: dict = {}
        self.callbacks = Callbacks()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@reject.test"):
            return "550 5.1.1 Recipient address rejected: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.faults.get("count", 0) > 0:
            self.faults["count"] -= 1
            return f"{self.faults['code']} simulated failure"
        stored = self.mailbox.add(envelope.mail_from, envelope.rcpt_tos, envelope.content)
        for recipient in envelope.rcpt_tos:
            event = "bounced" if recipient.lower().endswith("@bounce.test") else "delivered"
            self.callbacks.schedule(url=self.config["receipt_url"],
                                    delay=self.config["receipt_delay"],
                                    build=self._receipt(stored["message_id"], recipient, event))
        return f"250 Message accepted for delivery as {stored['message_id']}"

    def _receipt(self, message_id: str, recipient: str, event: str):
        def build():
            body = json_body({"message_id": message_id, "event": event, "recipient": recipient,
                              "error": "550 mailbox unavailable" if event == "bounced" else ""})
            return body, {"Content-Type": "application/json",
                          HEADER: sign(secret=self.config["receipt_secret"], body=body)}
        return build


def default_config() -> dict:
    return {
        "receipt_url": env("SIM_EMAIL_RECEIPT_URL",
                           "http://127.0.0.1:8000/api/v1/notifications/receipts/email/"),
        "receipt_secret": env("SIM_EMAIL_RECEIPT_SECRET", "dev-email-receipt-secret"),
        "receipt_delay": float(env("SIM_EMAIL_RECEIPT_DELAY", "0.3")),
    }


def mailbox_dir() -> str:
    return os.environ.get("SIM_MAILBOX_DIR", "/tmp/commerce-mailbox")


async def start(host: str, port: int):
    """For `python -m simulators`: serve on the running loop; returns the cleanup."""
    import asyncio

    handler = MailHandler(Mailbox(mailbox_dir()), default_config())
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, hostname="smtp.simulator.local"), host, port)

    async def cleanup():
        handler.callbacks.cancel()
        server.close()
        await server.wait_closed()

    return cleanup


@contextlib.contextmanager
def serve_in_thread(*, host: str = "127.0.0.1", port: int | None = None,
                    directory: str | None = None, **config):
    """For tests: an SMTP server on its own thread (aiosmtpd's Controller) on a free port.
    Yields the handler: `.mailbox.messages`, `.config`, `.faults`, `.callbacks.records`."""
    from simulators.server import free_port

    handler = MailHandler(Mailbox(directory), {**default_config(), **config})
    controller = Controller(handler, hostname=host, port=port or free_port(host),
                            server_hostname="smtp.simulator.local")
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.loop.call_soon_threadsafe(handler.callbacks.cancel)
        controller.stop()
