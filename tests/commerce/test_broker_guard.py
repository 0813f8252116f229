"""kombu's Redis transport, after a broker connection loss: restoring unacknowledged
messages on a closed connection must raise a connection error (Celery reconnects), not the
AttributeError that made it exit (issue 9)."""

import pytest
import redis
from django.conf import settings
from kombu import Connection


def test_restoring_on_a_closed_connection_is_a_recoverable_connection_error():
    # given a channel whose pools were dropped after a connection error, and whose
    # connection has since been closed (kombu clears the transport's client)
    connection = Connection(settings.CELERY_BROKER_URL)
    channel = connection.channel()
    channel._pool = None
    connection._transport.client = None
    # when it rebuilds a pool to restore unacknowledged messages
    with pytest.raises(redis.exceptions.ConnectionError):
        channel._connparams()
    # then it is one of the errors Celery recovers from by reconnecting
    assert issubclass(redis.exceptions.ConnectionError,
                      Connection(settings.CELERY_BROKER_URL).connection_errors)
