"""gunicorn answers some requests itself, before our app sees them (a malformed request
line, a request line or header above its limits); its pages are HTML. `install()` (called
from deploy/gunicorn.conf.py) makes them the API's JSON envelope too. No Django here: this
runs in gunicorn's master before the app is loaded."""

import json

CODES = {400: "bad_request", 403: "permission_denied", 404: "not_found",
         413: "payload_too_large", 414: "uri_too_long", 431: "bad_request"}


def json_write_error(sock, status_int, reason, mesg):
    from gunicorn import util

    code = CODES.get(status_int, "internal_error" if status_int >= 500 else "bad_request")
    body = json.dumps({"error": {"code": code, "message": str(reason),
                                 "details": {"detail": str(mesg)[:200]}}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin1") + body)


def install() -> None:
    from gunicorn import util

    util.write_error = json_write_error
