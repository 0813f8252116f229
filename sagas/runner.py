"""Claiming due sagas and running them, many at once.

`run_due()` (the Celery task `sagas.run_due`, woken after commits and run by beat every few
seconds) claims due sagas in batches with `FOR UPDATE SKIP LOCKED`, so several workers take
disjoint batches, and runs each batch: the database work of every saga happens on this
thread's one connection, step after step, while the external calls the steps need (payment
processor, carriers) are made on a thread pool, many in flight at once and never inside a
transaction. A batch of sagas each waiting 100 ms for the processor takes about 100 ms per
call round, not 100 ms per saga."""

import contextvars
import logging
import os
import threading
import uuid
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import transaction

from commerce.core import external, wakeups
from sagas.batch import BatchRun
from sagas.engine import RUNNABLE, SagaRun, lease_seconds
from sagas.models import SagaInstance

logger = logging.getLogger(__name__)

WAKE_FLAG = "sagas:run-requested"
MAX_BATCHES_PER_RUN = 50  # a task ends after this many batches; the next wake-up goes on

_CLAIM_SQL = """
WITH due AS (
    SELECT id, deadline FROM saga_instances
     WHERE status = ANY(%(statuses)s) AND deadline <= statement_timestamp() {only}
     ORDER BY deadline
     LIMIT %(limit)s
       FOR UPDATE SKIP LOCKED)
UPDATE saga_instances AS s
   SET lease_id = gen_random_uuid(), attempts = s.attempts + 1,
       deadline = statement_timestamp() + make_interval(secs => %(lease)s),
       updated_at = statement_timestamp()
  FROM due
 WHERE s.id = due.id
RETURNING {columns}, due.deadline AS due_at
"""


def claim_due(*, limit: int, saga_ids: list | None = None) -> list[SagaInstance]:
    """Lease up to `limit` due sagas (oldest deadline first) to this worker."""
    # Columns named, not s.*: a prepared statement's result type must not change under it
    # when a migration adds a column (settings: DB_PREPARE_THRESHOLD).
    columns = ", ".join(f"s.{f.column}" for f in SagaInstance._meta.concrete_fields)
    sql = _CLAIM_SQL.format(only="AND id = ANY(%(ids)s)" if saga_ids is not None else "",
                            columns=columns)
    params = {"lease": lease_seconds(), "statuses": [str(s) for s in RUNNABLE],
              "limit": limit, "ids": [uuid.UUID(str(i)) for i in saga_ids or ()]}
    with transaction.atomic():
        claimed = list(SagaInstance.objects.raw(sql, params))
    return sorted(claimed, key=lambda saga: saga.due_at)  # oldest first: RETURNING is unordered


def run_due(*, limit: int | None = None, saga_ids: list | None = None,
            max_batches: int = MAX_BATCHES_PER_RUN) -> dict[str, int]:
    """Claim and run due sagas until none is left (bounded); returns counts by result."""
    limit = limit or settings.SAGA_BATCH_SIZE
    results: dict[str, int] = {}
    for _ in range(max_batches):
        claimed = claim_due(limit=limit, saga_ids=saga_ids)
        if not claimed:
            break
        if len(claimed) == limit:
            request_run(force=True)  # more is due than one batch: let idle workers help
        for run in run_batch(claimed):
            results[run.result] = results.get(run.result, 0) + 1
    return results


def run_batch(sagas: list[SagaInstance]) -> list[SagaRun]:
    """Advance every claimed saga as far as it goes now: sagas waiting at the same
    batchable step run it together (sagas/batch.py), the others one by one; every external
    call is made in parallel on the call pool, with no transaction open."""
    runs = [SagaRun(saga) for saga in sagas]
    for run in runs:
        run.wait_in_run = True
    ready: deque = deque(runs)
    waiting: dict = {}   # unit → {key: Outcome} collected so far
    pending: dict = {}   # unit → calls still in flight
    in_flight: dict = {}  # future → (unit, key)
    while ready or in_flight:
        while ready:
            for unit in _units(ready):
                calls = _advance(unit, ready)
                if calls:
                    waiting[unit], pending[unit] = {}, len(calls)
                    for key, call in calls.items():
                        in_flight[_submit(call)] = (unit, key)
        if in_flight:
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in done:
                unit, key = in_flight.pop(future)
                waiting[unit][key] = future.result()
                pending[unit] -= 1
                if pending[unit] == 0:
                    outcomes = waiting.pop(unit)
                    del pending[unit]
                    if isinstance(unit, BatchRun):
                        unit.outcomes = outcomes
                    else:
                        unit.outcome = outcomes[None]
                    ready.append(unit)
        if not ready and not in_flight:  # all done but the waits: their second chance
            ready.extend(run for run in runs if run.waiting)
    return runs


def _units(ready: deque) -> list:
    """Take everything ready: sagas at the same batchable step grouped into one BatchRun
    (in the order they were claimed), the rest as they are."""
    items, groups, units = list(ready), {}, []
    ready.clear()
    for item in items:
        if isinstance(item, SagaRun) and item.batchable():
            key = (item.saga.saga_type, item.saga.current_step)
            if key not in groups:
                groups[key] = []
                units.append(groups[key])
            groups[key].append(item)
        else:
            units.append(item)
    return [BatchRun(u) if isinstance(u, list) else u for u in units]


def _advance(unit, ready: deque) -> dict:
    """Advance a unit; its calls keyed (None for a single saga's one call). A finished
    batch puts its sagas back in the queue for their next step."""
    if isinstance(unit, BatchRun):
        calls = unit.advance()
        if calls:
            return calls
        ready.extend(run for run in unit.runs if run.saga.status in RUNNABLE
                     and not run.stopped)
        return {}
    call = unit.advance()
    if call is not None:
        return {None: call}
    if unit.batchable():
        ready.append(unit)  # parked at a batchable step: grouped on the next pass
    return {}


def request_run_after_commit() -> None:
    """Wake a worker once the current transaction commits (never raises)."""
    from sagas.tasks import run_due as run_due_task

    wakeups.request_after_commit(run_due_task, flag=WAKE_FLAG)


def request_run(*, force: bool = False) -> None:
    """Wake a worker to run due sagas (after commit; never raises)."""
    from sagas.tasks import run_due as run_due_task

    wakeups.request(run_due_task, flag=WAKE_FLAG, force=force)


# --- the call pool: one per process (a forked worker must not inherit its threads) ---------
_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def _submit(call: external.ExternalCall) -> Future:
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=settings.SAGA_CALL_CONCURRENCY,
                                       thread_name_prefix="saga-call")
            _pool_pid = os.getpid()
    # The caller's context (correlation id, actor) follows the call into its thread.
    return _pool.submit(contextvars.copy_context().run, external.invoke, call)
