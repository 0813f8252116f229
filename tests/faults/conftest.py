import pytest
from django.db import connection

from tests.faults.servers import RedisServer
from tests.faults.stack import Stack


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()


def test_database_url() -> str:
    db = connection.settings_dict
    return (f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}")


@pytest.fixture
def stack_on_private_redis(tmp_path, private_redis, payment_processor):
    """Web + worker + beat on the test database and a private Redis (broker, cache, event
    stream). Processor calls time out after 1 s (pm_card_timeout holds its answer 2 s)."""
    payment_processor.configure(hang_seconds=2, timeouts_per_key=1)
    stack = Stack(workdir=tmp_path, database_url=test_database_url(),
                  redis_url=private_redis.url(0),
                  env={"PAYMENT_API_TIMEOUT_SECONDS": 1, "SAGA_STEP_DEADLINE_SECONDS": 10,
                       "SAGA_RETRY_BACKOFF_SECONDS": 0.5, "SAGA_RETRY_BACKOFF_MAX_SECONDS": 4})
    try:
        stack.start_web()
        stack.start_worker()
        stack.start_beat()
        yield stack
    finally:
        stack.stop()
