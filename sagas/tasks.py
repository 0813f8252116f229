"""Thin Celery tasks: every step and compensation goes through `sagas.run_step`, which is
idempotent (it checks the saga row under a lock before doing anything)."""

from celery import shared_task

from sagas import engine, services


@shared_task(name="sagas.run_step", ignore_result=True, acks_late=True)
def run_step(saga_id: str, index: int, direction: str) -> str:
    return engine.run_step(saga_id, index, direction)


@shared_task(name="sagas.resume_stalled", ignore_result=True)
def resume_stalled() -> int:
    return services.saga_resume_stalled()
