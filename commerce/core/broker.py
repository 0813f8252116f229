"""A guard around kombu's Redis transport so a broker restart cannot kill a worker.

kombu 5.7.0: after the broker connection is lost, the channel's connection pools are
dropped; when the connection is then closed, closing the channel restores its
unacknowledged messages, which rebuilds a pool from `self.connection.client`, already set to
None by the close: AttributeError("'NoneType' object has no attribute 'hostname'"). Celery
treats an AttributeError as unrecoverable and the worker process exits (issue 9: 4 of 8
Redis restarts under load). It is a connection error in truth: raising it as one lets
Celery reconnect and carry on; the messages stay in the transport's unacked set and are
restored by the visibility timeout, and nothing of ours depends on them (sagas and the
outbox are driven by the database, messages only wake workers)."""

import redis
from kombu.transport import redis as kombu_redis


def guard_redis_transport() -> None:
    original = kombu_redis.Channel._connparams
    if getattr(original, "_closed_connection_guard", False):
        return

    def _connparams(self, asynchronous=False):
        if getattr(self.connection, "client", None) is None:
            raise redis.exceptions.ConnectionError(
                "the broker connection was closed while the channel still needed it")
        return original(self, asynchronous=asynchronous)

    _connparams._closed_connection_guard = True
    kombu_redis.Channel._connparams = _connparams
