"""Running one forward step for many sagas at once: the fulfilment saga's hot path.

The runner (sagas/runner.py) groups claimed sagas waiting at the same step of the same saga
type and hands the group to `BatchRun`, which calls the step's `batch` function once for all
of them: the domain's batch commands read and write every order with one statement per
kind of row, and the step's external calls (one per saga) go out together. The step logs and
saga rows are then written with one statement each (`BatchWriter`), under the same lease
checks as one saga at a time: if any lease was lost, or anything in the batch fails, the
whole batch transaction rolls back and its sagas run that step one by one instead
(`SagaRun.solo_step`), so a batch never does less than single steps would."""

import inspect
import logging

from django.db import connection, transaction

from commerce.core import context
from commerce.core.bulk import array_literal
from commerce.core.external import ExternalCall
from sagas.engine import LeaseLost, SagaRun
from sagas.records import StepLog, describe_error, write_step_logs

logger = logging.getLogger(__name__)
_SAVED_FIELDS = ("status", "current_step", "saga_data", "attempts", "last_error",
                 "finished_at", "lease_id", "deadline")


class BatchWriter:
    """The rows a batch's sagas would each write, written with one statement per table."""

    def __init__(self):
        self.sagas: list[tuple] = []
        self.logs: list[StepLog] = []

    def save(self, saga, lease) -> None:
        self.sagas.append((saga, lease))

    def log(self, row: StepLog) -> None:
        self.logs.append(row)

    def flush(self) -> None:
        if self.logs:
            write_step_logs(self.logs)
        if not self.sagas:
            return
        sagas = [saga for saga, _ in self.sagas]
        columns = [
            [s.pk for s in sagas], [lease for _, lease in self.sagas], [s.status for s in sagas],
            [s.current_step for s in sagas], [_json(s.saga_data) for s in sagas],
            [s.attempts for s in sagas], [s.last_error for s in sagas],
            [s.finished_at for s in sagas], [s.lease_id for s in sagas],
            [s.deadline for s in sagas]]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE saga_instances AS s SET status = v.status, current_step = v.step, "
                "saga_data = v.data, attempts = v.attempts, last_error = v.error, "
                "finished_at = v.finished, lease_id = v.new_lease, deadline = v.deadline, "
                "updated_at = statement_timestamp() FROM unnest(%s::uuid[], %s::uuid[], "
                "%s::varchar[], %s::smallint[], %s::jsonb[], %s::integer[], %s::text[], "
                "%s::timestamptz[], %s::uuid[], %s::timestamptz[]) AS v(id, lease, status, "
                "step, data, attempts, error, finished, new_lease, deadline) "
                "WHERE s.id = v.id AND s.lease_id = v.lease",
                [array_literal(column) for column in columns])
            if cursor.rowcount != len(sagas):
                raise LeaseLost(f"{len(sagas) - cursor.rowcount} of the batch")


class BatchRun:
    """A group of claimed sagas at the same batchable step, run as one."""

    def __init__(self, runs: list[SagaRun]):
        self.runs = runs
        self.step = runs[0].step
        self.steps = None
        self.outcomes: dict | None = None
        self.failed = False

    def advance(self) -> dict[object, ExternalCall] | None:
        """The batch's calls to make (then advance again with `outcomes`), or None: done
        (each run moved on) or failed (each run set to do this step alone)."""
        saved = [{f: getattr(run.saga, f) for f in _SAVED_FIELDS} for run in self.runs]
        try:
            with transaction.atomic(), context.bind(actor=f"saga:{self.runs[0].saga.saga_type}"):
                if self.steps is None:
                    ctxs = [run.begin_step() for run in self.runs]
                    value = (self.step.batch(ctxs) if self.step.batch is not None
                             else {ctx.saga_id: None for ctx in ctxs})  # a step with no action
                    if inspect.isgenerator(value):
                        self.steps = value
                        value = self._resume(None)
                else:
                    outcomes, self.outcomes = self.outcomes, None
                    value = self._resume(outcomes)
                if self.steps is not None:
                    return value  # calls to make: what the step did so far commits first
                writer = BatchWriter()
                for run in self.runs:
                    run.writer = writer
                    run.finish_batch_step(value.get(run.ctx.saga_id))
                writer.flush()
        except Exception as exc:  # noqa: BLE001 - any failure: the sagas go one by one
            self._fall_back(exc, saved)
        finally:
            for run in self.runs:
                run.writer = None
        return None

    def _resume(self, outcomes):
        try:
            return self.steps.send(outcomes)
        except StopIteration as stop:
            self.steps = None
            return stop.value
        except BaseException:
            self.steps = None
            raise

    def _fall_back(self, exc: Exception, saved: list[dict]) -> None:
        if self.steps is not None:
            self.steps.close()
            self.steps = None
        self.failed = True
        logger.warning("saga batch step failed; its sagas run it one by one", extra={"data": {
            "step": self.step.name, "sagas": len(self.runs), "error": describe_error(exc)}})
        for run, fields in zip(self.runs, saved, strict=True):
            for name, value in fields.items():  # the rolled-back changes, undone in memory
                setattr(run.saga, name, value)
            run.stopped, run.result = False, "claimed"
            run.solo_step = run.saga.current_step


def _json(data) -> str:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.dumps(data, cls=DjangoJSONEncoder)
