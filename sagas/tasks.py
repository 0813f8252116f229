"""Thin Celery tasks. `sagas.run_due` claims due sagas and runs them; it is idempotent by
construction (a saga runs only under a lease its claim took), so a duplicated or stray
message costs one empty claim query. Beat runs it every few seconds; commits wake it."""

from celery import shared_task

from commerce.core import wakeups
from sagas import runner


@shared_task(name="sagas.run_due", ignore_result=True)
def run_due() -> dict:
    wakeups.clear(runner.WAKE_FLAG)
    return runner.run_due()
