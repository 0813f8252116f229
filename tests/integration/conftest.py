import pytest

from commerce.celery import app as celery_app


@pytest.fixture
def real_celery():
    """Tasks sent from the test go to the Redis broker (not run in-process); the queue
    starts empty."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    yield celery_app
    celery_app.control.purge()
    celery_app.conf.task_always_eager = eager
