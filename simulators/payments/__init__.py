"""A Stripe-shaped payment processor for development and tests (state in memory).

It speaks the part of Stripe's v1 API our adapter uses, the way Stripe does: bearer
secret keys, form-encoded bodies (`metadata[order_id]=...`), amounts in integer minor units,
lowercase currencies, Stripe-shaped objects and error bodies, and Stripe's idempotency:

- `Idempotency-Key` on a POST: the first request's status and body are stored once the
  endpoint starts executing (declines and state errors included, parameter errors not);
  the same key with the same parameters gets that stored answer back with
  `Idempotent-Replayed: true`; with other parameters, 400 `idempotency_error`; while the
  first is still executing, 409 `idempotency_key_in_use` (retry later). Keys are scoped to
  the API key and kept 24 hours.
- One event loop, and every state change happens in one synchronous step after the key is
  claimed, so concurrent duplicates can never charge twice.

Endpoints: `POST /v1/payment_intents` (confirm=true + capture_method=manual authorizes),
`POST /v1/payment_intents/{id}/capture|cancel`, `GET /v1/payment_intents/{id}`,
`GET /v1/payment_intents/search?query=metadata['k']:'v' AND status:'…'`,
`POST /v1/refunds`, `GET /v1/refunds?payment_intent=…`.

Test payment methods: `pm_card_visa` succeeds; `pm_card_chargeDeclined` (and any unknown
method) is declined (402 `card_error`); `pm_card_timeout` succeeds at the processor, but the
first `timeouts_per_key` requests with its idempotency key are answered only after
`hang_seconds` (longer than the client waits), so the client times out although the charge
exists; later requests get the stored answer at once.

Knobs (constructor, environment, or `POST /_sim/config`): `latency_ms`
(PAYMENT_SIMULATOR_LATENCY_MS, every answer waits this long, with asyncio.sleep, so hundreds of
calls can be in flight), `hang_seconds` (PAYMENT_SIMULATOR_HANG_SECONDS), `timeouts_per_key`
(PAYMENT_SIMULATOR_TIMEOUTS_PER_KEY), `api_key` (PAYMENT_SIMULATOR_API_KEY; the default is the
test-only key of our local settings). Test controls: `POST /_sim/faults {"mode", "count"}`
makes the next `count` API requests answer 500 before executing (`error`), lose their
connection before executing (`drop`), wait before executing while their key is in flight
(`stall`), or execute and then hold the answer back (`hang`); held requests wait
`hang_seconds` or until `POST /_sim/release`. `GET /_sim/payment_intents` (everything
recorded, with `amount_refunded`), `GET /_sim/refunds`, `GET /_sim/stats` (counters),
`POST /_sim/reset` (forget everything, default knobs; tests call it before each test).
Run alone: `python -m simulators payments`, or `python -m simulators.payments --latency-ms 100`.

Simplifications: no minimum charge amount, one account (one secret key), search supports
`field:'value'` clauses joined by AND over metadata, status, currency and amount."""

from simulators.payments.app import PROCESSOR, create_app
from simulators.payments.processor import DEFAULT_API_KEY, Config, Processor

__all__ = ["DEFAULT_API_KEY", "PROCESSOR", "Config", "Processor", "create_app"]
