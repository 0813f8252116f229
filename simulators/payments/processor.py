"""The processor's state and rules (no HTTP routing): payment intents, refunds, Stripe's
idempotency layer, the test knobs. See the package docstring for the behaviour."""

import asyncio
import contextlib
import json
import os
import re
import time
import uuid
from collections import Counter, OrderedDict, deque
from contextvars import ContextVar
from dataclasses import dataclass, replace

from aiohttp import web

DEFAULT_API_KEY = "sk_test_commerce_local_simulator"
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
SUCCEEDS = frozenset({"pm_card_visa", "pm_card_timeout"})
TIMES_OUT = "pm_card_timeout"
DECLINES = {  # payment method -> (decline_code, message)
    "pm_card_chargeDeclined": ("generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": ("insufficient_funds",
                                                "Your card has insufficient funds."),
}
UNKNOWN_METHOD_DECLINE = ("card_not_supported", "Your card does not support this type of "
                                                "purchase.")
FAULT_MODES = ("error", "drop", "stall", "hang")


@dataclass
class Config:
    latency_ms: float = 0.0
    hang_seconds: float = 10.0
    timeouts_per_key: int = 2
    api_key: str = DEFAULT_API_KEY

    @classmethod
    def from_env(cls, **overrides) -> "Config":
        env = os.environ
        config = cls(
            latency_ms=float(env.get("PAYMENT_SIMULATOR_LATENCY_MS", 0)),
            hang_seconds=float(env.get("PAYMENT_SIMULATOR_HANG_SECONDS", 10)),
            timeouts_per_key=int(env.get("PAYMENT_SIMULATOR_TIMEOUTS_PER_KEY", 2)),
            api_key=env.get("PAYMENT_SIMULATOR_API_KEY", DEFAULT_API_KEY))
        return replace(config, **{k: v for k, v in overrides.items() if v is not None})


class StripeError(Exception):
    """An error answer in Stripe's shape: {"error": {"type", "code", "message", ...}}."""

    def __init__(self, status: int, type_: str, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.error = {"type": type_, "message": message,
                      **{k: v for k, v in extra.items() if v is not None}}

    def answer(self) -> tuple[int, dict]:
        return self.status, {"error": self.error}


def invalid(message: str, *, code: str | None = None, param: str | None = None,
            status: int = 400) -> StripeError:
    return StripeError(status, "invalid_request_error", message, code=code, param=param)


@dataclass
class Call:
    """What the processor knows about the API request being handled (one per request task)."""
    api_key: str = ""
    delayed: bool = False   # the latency has been applied
    stall: bool = False     # hold the request back before executing it ("stall" fault)
    hang: bool = False      # hold the answer back after executing (pm_card_timeout, "hang")


CURRENT_CALL: ContextVar[Call] = ContextVar("payment_simulator_call")


@dataclass
class IdempotencyRecord:
    fingerprint: tuple
    created: float
    status: int | None = None    # None while the first request is still executing
    body: bytes = b""


class Processor:
    """The processor's books: payment intents, refunds, stored idempotent answers."""

    def __init__(self, config: Config):
        self.defaults = config
        self.release = asyncio.Event()
        self.generation = 0
        self.reset()

    def reset(self) -> None:
        self.generation += 1  # requests still waiting will not touch the new books
        self.release_held()  # e.g. answers a previous test left hanging
        self.config = replace(self.defaults)
        self.intents: dict[str, dict] = {}
        self.refunded: Counter[str] = Counter()          # intent id -> refunded minor units
        self.refunds: dict[str, dict] = {}
        self.refunds_by_intent: dict[str, list[str]] = {}
        self.by_metadata: dict[tuple[str, str], list[str]] = {}
        self.idempotency: OrderedDict[tuple[str, str], IdempotencyRecord] = OrderedDict()
        self.hangs_by_key: Counter[str] = Counter()
        self.faults: deque[str] = deque()
        self.stats: Counter[str] = Counter()
        self.in_flight = 0  # first requests of a key executing now

    # --- timing ----------------------------------------------------------------------------
    async def delay(self) -> None:
        """The configured latency, once per request, wherever the handler puts it."""
        call = CURRENT_CALL.get()
        if call.delayed:
            return
        call.delayed = True
        if self.config.latency_ms > 0:
            await asyncio.sleep(self.config.latency_ms / 1000)

    async def hold(self) -> None:
        """Wait `hang_seconds`, or until /_sim/release or /_sim/reset."""
        release = self.release
        self.stats["held"] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), self.config.hang_seconds)

    def release_held(self) -> None:
        self.release.set()
        self.release = asyncio.Event()

    # --- idempotency -------------------------------------------------------------------------
    async def execute(self, request: web.Request, params, perform, *,
                      hangs_first: bool = False) -> web.Response:
        """Run `perform()` (synchronous: one atomic state change returning (status, body))
        under Stripe's idempotency rules. `hangs_first`: the first `timeouts_per_key`
        answers for this key are held back (pm_card_timeout)."""
        call = CURRENT_CALL.get()
        key = request.headers.get("Idempotency-Key")
        fingerprint = (request.method, request.path, tuple(sorted(params.items())))
        scope = (call.api_key, key) if key is not None else None
        if scope is not None:
            self._expire_keys()
        record = self.idempotency.get(scope) if scope is not None else None
        if record is None:
            if scope is not None:  # claimed before the first await: duplicates see it
                record = self.idempotency[scope] = IdempotencyRecord(fingerprint, time.time())
            generation = self.generation
            self.in_flight += 1
            try:
                await self.delay()
                if call.stall:
                    await self.hold()
                if self.generation != generation:  # reset meanwhile: not into the new books
                    raise StripeError(500, "api_error", "The simulator was reset.")
                status, body = perform()
            except BaseException:
                if scope is not None and self.generation == generation:
                    del self.idempotency[scope]  # never executed: nothing to replay
                raise
            finally:
                if self.generation == generation:
                    self.in_flight -= 1
            raw, replayed = dumps(body), False
            if record is not None:
                record.status, record.body = status, raw
        else:
            # Decided on arrival (a first request still executing is "in use" now), answered
            # after the round trip.
            refusal = _reuse_refusal(record, fingerprint, key)
            await self.delay()
            if refusal is not None:
                self.stats[refusal.error.get("code") or refusal.error["type"]] += 1
                raise refusal
            status, raw, replayed = record.status, record.body, True
            self.stats["replayed"] += 1
        if hangs_first:  # without a key every request is a first one
            seen = self.hangs_by_key[key] = self.hangs_by_key[key] + 1 if key else 1
            call.hang = seen <= self.config.timeouts_per_key
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return web.Response(body=raw, status=status, headers=headers,
                            content_type="application/json")

    def _expire_keys(self) -> None:
        horizon = time.time() - IDEMPOTENCY_TTL_SECONDS
        while self.idempotency:
            scope, record = next(iter(self.idempotency.items()))
            if record.created >= horizon:
                return
            del self.idempotency[scope]

    # --- payment intents ------------------------------------------------------------------------
    def intent(self, intent_id: str, *, param: str = "intent") -> dict:
        intent = self.intents.get(intent_id)
        if intent is None:
            raise invalid(f"No such payment_intent: '{intent_id}'", code="resource_missing",
                          param=param, status=404)
        return intent

    def create_intent(self, *, amount, currency, payment_method, capture_method, confirm,
                      metadata, description) -> tuple[int, dict]:
        intent = {
            "id": f"pi_{uuid.uuid4().hex[:24]}", "object": "payment_intent", "amount": amount,
            "amount_capturable": 0, "amount_received": 0, "canceled_at": None,
            "cancellation_reason": None, "capture_method": capture_method,
            "confirmation_method": "automatic", "created": int(time.time()),
            "currency": currency, "description": description, "last_payment_error": None,
            "latest_charge": None, "livemode": False, "metadata": metadata,
            "payment_method": payment_method or None,
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
        }
        self.intents[intent["id"]] = intent
        for pair in metadata.items():
            self.by_metadata.setdefault(pair, []).append(intent["id"])
        self.stats["payment_intents"] += 1
        if not confirm:
            return 200, intent
        charge = f"ch_{uuid.uuid4().hex[:24]}"
        intent["latest_charge"] = charge
        if payment_method in SUCCEEDS:
            if capture_method == "manual":
                intent.update(status="requires_capture", amount_capturable=amount)
            else:
                intent.update(status="succeeded", amount_received=amount)
            return 200, intent
        decline_code, message = DECLINES.get(payment_method, UNKNOWN_METHOD_DECLINE)
        error = {"type": "card_error", "code": "card_declined", "decline_code": decline_code,
                 "message": message, "charge": charge, "payment_method": payment_method}
        intent.update(status="requires_payment_method", last_payment_error=error)
        return 402, {"error": {**error, "payment_intent": intent}}

    def capture(self, intent: dict, amount: int | None) -> tuple[int, dict]:
        if intent["status"] != "requires_capture":
            return _unexpected_state(intent, "captured", "requires_capture")
        amount = intent["amount_capturable"] if amount is None else amount
        if amount > intent["amount_capturable"]:
            return invalid("The amount_to_capture must be less than or equal to the "
                           "amount_capturable.", code="amount_too_large",
                           param="amount_to_capture").answer()
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        return 200, intent

    def cancel(self, intent: dict, reason: str | None) -> tuple[int, dict]:
        cancelable = ("requires_payment_method", "requires_capture", "requires_confirmation")
        if intent["status"] not in cancelable:
            return _unexpected_state(intent, "canceled", ", ".join(cancelable))
        intent.update(status="canceled", amount_capturable=0, canceled_at=int(time.time()),
                      cancellation_reason=reason)
        return 200, intent

    def refund(self, intent: dict, amount: int | None, metadata: dict,
               reason: str | None) -> tuple[int, dict]:
        if intent["status"] != "succeeded":
            return _unexpected_state(intent, "refunded", "succeeded")
        refundable = intent["amount_received"] - self.refunded[intent["id"]]
        if refundable <= 0:
            return invalid(f"Charge {intent['latest_charge']} has already been refunded.",
                           code="charge_already_refunded").answer()
        amount = refundable if amount is None else amount
        if amount > refundable:
            return invalid(f"Refund amount ({amount}) is greater than unrefunded amount on "
                           f"charge ({refundable}).", code="amount_too_large",
                           param="amount").answer()
        refund = {"id": f"re_{uuid.uuid4().hex[:24]}", "object": "refund", "amount": amount,
                  "charge": intent["latest_charge"], "created": int(time.time()),
                  "currency": intent["currency"], "metadata": metadata,
                  "payment_intent": intent["id"], "reason": reason, "status": "succeeded"}
        self.refunds[refund["id"]] = refund
        self.refunds_by_intent.setdefault(intent["id"], []).append(refund["id"])
        self.refunded[intent["id"]] += amount
        return 200, refund

    def search(self, query: str) -> list[dict]:
        clauses = _parse_query(query)
        candidates = None
        for name, value in clauses:  # narrow by a metadata index first, then filter
            if name.startswith("metadata."):
                ids = self.by_metadata.get((name[len("metadata."):], value), [])
                candidates = [self.intents[i] for i in ids]
                break
        if candidates is None:
            candidates = list(self.intents.values())
        matches = [i for i in candidates if all(_matches(i, n, v) for n, v in clauses)]
        return sorted(matches, key=lambda i: i["created"], reverse=True)


# --- helpers ---------------------------------------------------------------------------------
def _reuse_refusal(record: IdempotencyRecord, fingerprint: tuple,
                   key: str) -> StripeError | None:
    if record.fingerprint != fingerprint:
        return StripeError(400, "idempotency_error",
                           f"Keys for idempotent requests can only be used with the same "
                           f"parameters they were first used with. Try using a key other "
                           f"than '{key}' if you meant to execute a different request.")
    if record.status is None:
        return invalid("There is currently another in-progress request using this "
                       "Idempotent Key (that probably means you submitted twice, and the "
                       f"other request is still going through): {key}. Please try again "
                       "later.", code="idempotency_key_in_use", status=409)
    return None


def dumps(body) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _unexpected_state(intent: dict, action: str, allowed: str) -> tuple[int, dict]:
    return invalid(f"This PaymentIntent could not be {action} because it has a status of "
                   f"{intent['status']}. Only a PaymentIntent with one of the following "
                   f"statuses may be {action}: {allowed}.",
                   code="payment_intent_unexpected_state").answer()


_CLAUSE = re.compile(r"""(?:metadata\['(?P<key>[^']+)'\]|(?P<field>status|currency|amount))"""
                     r""":(?:'(?P<text>(?:[^'\\]|\\.)*)'|(?P<number>\d+))""")


def _parse_query(query: str) -> list[tuple[str, str]]:
    clauses = []
    for part in re.split(r"\s+AND\s+", query.strip()):
        match = _CLAUSE.fullmatch(part.strip())
        if match is None:
            raise invalid(f"Unsupported search query clause: {part!r} (this simulator "
                          f"understands field:'value' clauses joined by AND).",
                          param="query")
        name = f"metadata.{match['key']}" if match["key"] else match["field"]
        value = match["text"] if match["text"] is not None else match["number"]
        clauses.append((name, re.sub(r"\\(.)", r"\1", value)))
    return clauses


def _matches(intent: dict, name: str, value: str) -> bool:
    if name.startswith("metadata."):
        return intent["metadata"].get(name[len("metadata."):]) == value
    return str(intent[name]) == value
