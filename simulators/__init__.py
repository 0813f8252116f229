"""Local stand-ins for third parties we cannot reach from here (payment processor, carriers,
SMS/push providers, Slack, SMTP). Each is a small asyncio server speaking the real protocol
(HTTP via aiohttp, SMTP via aiosmtpd), so our adapters run their real client code, timeouts
and error paths against them. `make run` starts them all (`python -m simulators`); tests
start the ones they need on free ports (`simulators.server.serve_in_thread`)."""
