"""PostgreSQL backend (settings ENGINE `commerce.core.postgres`): django-prometheus's
metrics (same names: `django_db_execute_total`, `django_db_query_duration_seconds`,
`django_db_errors_total`, connections) with two costs of every request taken out.

- Health check without a round trip. Django's CONN_HEALTH_CHECKS sends `SELECT 1` before a
  request's first query, one extra statement per request. Here an idle connection is healthy
  unless its socket has something to read: a server that restarted or ended the session has
  sent its FATAL message and EOF, which makes the socket readable; only then is `SELECT 1`
  asked. A connection whose server vanished without a word fails its first query instead,
  which answers 503 (commerce/api/middleware.py) and is dropped at the request's end.
- Metrics children bound once per connection instead of looked up by label on every query."""

import select
import time

from django.db.backends.postgresql import base as postgresql
from django_prometheus.db import errors_total, execute_total, query_duration_seconds
from django_prometheus.db.backends.postgresql import base as instrumented
from psycopg.pq import TransactionStatus


def metered_cursor(cursor_class, alias: str, vendor: str):
    """A cursor class counting and timing its statements, errors by exception type."""
    executed = execute_total.labels(alias, vendor)
    duration = query_duration_seconds.labels(alias, vendor)

    class MeteredCursor(cursor_class):
        def execute(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return super().execute(*args, **kwargs)
            except Exception as exc:
                errors_total.labels(alias, vendor, type(exc).__name__).inc()
                raise
            finally:
                executed.inc()
                duration.observe(time.perf_counter() - started)

        def executemany(self, query, params_seq, *args, **kwargs):
            params_seq = list(params_seq)
            started = time.perf_counter()
            try:
                return super().executemany(query, params_seq, *args, **kwargs)
            except Exception as exc:
                errors_total.labels(alias, vendor, type(exc).__name__).inc()
                raise
            finally:
                executed.inc(len(params_seq))
                duration.observe(time.perf_counter() - started)

    return MeteredCursor


class DatabaseWrapper(instrumented.DatabaseWrapper):
    def get_connection_params(self):
        params = postgresql.DatabaseWrapper.get_connection_params(self)
        params["cursor_factory"] = metered_cursor(params["cursor_factory"], self.alias,
                                                  self.vendor)
        return params

    def is_usable(self):
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        if conn.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        poller = select.poll()  # not select(): no limit on the descriptor's number
        try:
            poller.register(conn.fileno(), select.POLLIN)
            readable = bool(poller.poll(0))
        except (OSError, ValueError):
            return False
        return super().is_usable() if readable else True
