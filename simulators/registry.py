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
    Simulator("carriers", "simulators.carriers", "CARRIER_SIMULATOR_PORT", 8102,
              "FedEx, UPS and DHL Express APIs, tracking pushes"),
)
