"""Every simulator `python -m simulators` can start, with the setting naming its port.

Add a simulator by adding one `Simulator` here: `module` must define `create_app()`
returning an aiohttp Application (HTTP simulators) or `async def start(host, port)`
returning an async cleanup callable (other protocols, e.g. SMTP)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Simulator:
    name: str
    module: str         # dotted path of the module implementing it
    port_env: str       # environment variable that overrides the port
    default_port: int   # the port `make run` uses; our adapters' local defaults point here
    description: str


SIMULATORS: tuple[Simulator, ...] = (
    Simulator("payments", "simulators.payments", "PAYMENT_SIMULATOR_PORT", 8101,
              "Stripe-shaped payment processor (PaymentIntents, Refunds, idempotency)"),
    Simulator("smtp", "simulators.smtp", "SIM_SMTP_PORT", 8025,
              "SMTP server for email (aiosmtpd); keeps every message in the mailbox folder"),
    Simulator("mailbox", "simulators.mailbox", "SIM_MAILBOX_PORT", 8107,
              "the local mailbox: emails the SMTP simulator accepted, in a browser"),
    Simulator("sms", "simulators.sms", "SIM_SMS_PORT", 8103,
              "Twilio-like SMS API with signed status callbacks"),
    Simulator("push", "simulators.push", "SIM_PUSH_PORT", 8104,
              "FCM-like push API with signed delivery receipts"),
    Simulator("slack", "simulators.slack", "SIM_SLACK_PORT", 8105,
              "Slack incoming webhooks"),
    Simulator("webhook_receiver", "simulators.webhook_receiver", "SIM_WEBHOOK_RECEIVER_PORT",
              8106, "a demo subscriber that verifies our signed webhooks"),
    Simulator("carriers", "simulators.carriers", "CARRIER_SIMULATOR_PORT", 8102,
              "FedEx, UPS and DHL Express APIs, tracking pushes"),
)
