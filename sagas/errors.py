"""Errors the saga engine tells apart: transient ones are retried with backoff; business
refusals (DomainError) are not retried and turn the saga to its compensations."""

from commerce.core.errors import DomainError, ErrorCode, ServiceUnavailable


class TransientError(ServiceUnavailable):
    """A step could not finish for a reason that may pass (a timeout, an adapter 5xx)."""


class InvalidSagaState(DomainError):
    code = ErrorCode.INVALID_SAGA_STATE
    http_status = 409
    default_message = "The saga is not in a state that allows this."


class StepPending(Exception):  # noqa: N818 - a signal, not a failure
    """The step cannot run yet (e.g. it waits for another saga): reschedule it without
    counting an attempt."""

    def __init__(self, reason: str, *, countdown: float = 2.0):
        self.reason = reason
        self.countdown = countdown
        super().__init__(reason)
