"""Order refusals (rendered by the kernel's error envelope)."""

from commerce.core.errors import Conflict, ErrorCode


class InvalidTransition(Conflict):
    """details = {"action", "status", "cancellation_pending", "archived", "allowed_actions"}."""

    code = ErrorCode.INVALID_TRANSITION
    default_message = "The order cannot do that in its current state."
