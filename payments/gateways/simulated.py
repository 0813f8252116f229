"""A simulated payment processor with Stripe-style test payment methods.

It behaves like a remote processor, not like a mock: its records ("charges" and the answer
given for each idempotency key) live in Redis, outside our PostgreSQL transactions, so they
survive our rollbacks and worker restarts exactly as a real processor's would. A retried
call with a known idempotency key gets the original answer (success or decline); the same
key with different parameters is refused, as Stripe does.

Payment methods: `pm_card_visa` succeeds; `pm_card_chargeDeclined` is declined;
`pm_card_timeout` times out settings.PAYMENT_SIMULATED_TIMEOUTS times per idempotency key
(counted in Redis), then succeeds. settings.PAYMENT_SIMULATED_LATENCY_SECONDS delays every
answer after the processor has recorded it (a slow network on the way back)."""

import json
import time
import uuid
from decimal import Decimal

from django.conf import settings

from commerce.core.redis import redis_client
from payments.gateways.base import (
    GatewayRefused,
    GatewayResult,
    GatewayTimeout,
    PaymentDeclined,
    PaymentGateway,
)

PREFIX = "paysim"
RECORD_TTL_SECONDS = 90 * 24 * 3600
SUCCEEDS = {"pm_card_visa", "pm_card_timeout"}
DECLINED = "pm_card_chargeDeclined"
TIMES_OUT = "pm_card_timeout"


class SimulatedGateway(PaymentGateway):
    name = "simulated"

    def __init__(self):
        self.redis = redis_client()

    # --- the interface ------------------------------------------------------------------
    def authorize(self, *, amount, currency, payment_method, idempotency_key):
        request = {"op": "authorize", "amount": _money(amount), "currency": currency,
                   "payment_method": payment_method}

        def work():
            if payment_method == TIMES_OUT:
                count = self.redis.incr(self._key("timeouts", idempotency_key))
                self.redis.expire(self._key("timeouts", idempotency_key), RECORD_TTL_SECONDS)
                if count <= settings.PAYMENT_SIMULATED_TIMEOUTS:
                    return None  # nothing recorded: the caller saw a timeout
            if payment_method not in SUCCEEDS:
                return {"declined": "Your card was declined."
                        if payment_method == DECLINED else "Unknown payment method."}
            reference = f"ch_sim_{uuid.uuid4().hex}"
            self.redis.hset(self._key("charge", reference), mapping={
                "status": "authorized", "currency": currency, "authorized": _money(amount),
                "captured": "0.00", "refunded": "0.00",
            })
            return {"reference": reference, "status": "authorized", "amount": _money(amount)}

        return self._once(idempotency_key, request, lock_on=idempotency_key, work=work)

    def capture(self, *, reference, amount, idempotency_key):
        request = {"op": "capture", "reference": reference, "amount": _money(amount)}

        def work():
            charge = self._charge(reference)
            if charge.get("status") != "authorized" or Decimal(amount) > Decimal(
                    charge["authorized"]):
                return {"refused": f"Cannot capture {_money(amount)} of a charge in state "
                                   f"{charge.get('status')!r}."}
            self.redis.hset(self._key("charge", reference),
                            mapping={"status": "captured", "captured": _money(amount)})
            return {"reference": reference, "status": "captured", "amount": _money(amount)}

        return self._once(idempotency_key, request, lock_on=reference, work=work)

    def void(self, *, reference, idempotency_key):
        request = {"op": "void", "reference": reference}

        def work():
            charge = self._charge(reference)
            if charge.get("status") != "authorized":
                return {"refused": f"Cannot void a charge in state {charge.get('status')!r}."}
            self.redis.hset(self._key("charge", reference), mapping={"status": "voided"})
            return {"reference": reference, "status": "voided", "amount": charge["authorized"]}

        return self._once(idempotency_key, request, lock_on=reference, work=work)

    def refund(self, *, reference, amount, idempotency_key):
        request = {"op": "refund", "reference": reference, "amount": _money(amount)}

        def work():
            charge = self._charge(reference)
            refunded = Decimal(charge.get("refunded", "0")) + Decimal(amount)
            if charge.get("status") not in ("captured", "partially_refunded") or (
                    refunded > Decimal(charge["captured"])):
                return {"refused": f"Cannot refund {_money(amount)} of a charge in state "
                                   f"{charge.get('status')!r}."}
            status = "refunded" if refunded == Decimal(charge["captured"]) else (
                "partially_refunded")
            self.redis.hset(self._key("charge", reference),
                            mapping={"status": status, "refunded": _money(refunded)})
            return {"reference": reference, "status": status, "amount": _money(amount)}

        return self._once(idempotency_key, request, lock_on=reference, work=work)

    def find_authorization(self, *, idempotency_key):
        stored = self.redis.get(self._key("answer", idempotency_key))
        if stored is None:
            return None
        answer = json.loads(stored)["answer"]
        if "reference" not in answer:
            return None
        return GatewayResult(reference=answer["reference"], status="authorized",
                             amount=Decimal(answer["amount"]))

    # --- processor-side bookkeeping -------------------------------------------------------
    def charge_state(self, reference: str) -> dict:
        """The processor's view of a charge (for tests and reconciliation)."""
        return self._charge(reference)

    def _once(self, idempotency_key, request, *, lock_on, work) -> GatewayResult:
        answer_key = self._key("answer", idempotency_key)
        with self.redis.lock(self._key("lock", lock_on), timeout=30, blocking_timeout=10):
            stored = self.redis.get(answer_key)
            if stored is not None:
                stored = json.loads(stored)
                if stored["request"] != request:
                    raise GatewayRefused(
                        "This idempotency key was used with different parameters.",
                        details={"idempotency_key": idempotency_key})
                answer = stored["answer"]
            else:
                answer = work()
                if answer is None:
                    raise GatewayTimeout(details={"idempotency_key": idempotency_key})
                self.redis.set(answer_key, json.dumps({"request": request, "answer": answer}),
                               ex=RECORD_TTL_SECONDS)
        latency = getattr(settings, "PAYMENT_SIMULATED_LATENCY_SECONDS", 0)
        if latency:
            time.sleep(latency)
        if "declined" in answer:
            raise PaymentDeclined(answer["declined"], details={"decline_code": "card_declined"})
        if "refused" in answer:
            raise GatewayRefused(answer["refused"])
        return GatewayResult(reference=answer["reference"], status=answer["status"],
                             amount=Decimal(answer["amount"]))

    def _charge(self, reference: str) -> dict:
        raw = self.redis.hgetall(self._key("charge", reference))
        return {k.decode(): v.decode() for k, v in raw.items()}

    @staticmethod
    def _key(kind: str, value: str) -> str:
        return f"{PREFIX}:{kind}:{value}"


def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))
