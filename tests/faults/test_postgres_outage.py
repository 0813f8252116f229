"""PostgreSQL restarted under load, on a private cluster: requests during the outage get
the 503 envelope (never a 500, never a failure for something that committed), and once it
is back every order settles with money, stock and read models exact. Real processes."""

import time

import httpx
import psycopg
import pytest

from tests.faults.servers import PostgresCluster
from tests.faults.stack import Stack, order_stream
from tests.integration.worker import wait_for

pytestmark = [pytest.mark.slow]

SETUP = """
from commerce.accounts.services import user_register
from inventory.services import item_create
import uuid
user_register(email="outage@example.com", password="outage-password-1")
for n in range(3):
    item_create(sku=f"PG-{n}", product_id=str(uuid.uuid4()), name=f"Item {n}",
                price="10.00", total_quantity=1000)
"""


@pytest.fixture
def stack_on_private_postgres(tmp_path, private_redis, payment_processor):
    payment_processor.configure(hang_seconds=2, timeouts_per_key=1)
    cluster = PostgresCluster().init()
    cluster.create_database("outage")
    stack = Stack(workdir=tmp_path, database_url=cluster.url("outage"),
                  redis_url=private_redis.url(0),
                  env={"PAYMENT_API_TIMEOUT_SECONDS": 1, "SAGA_STEP_DEADLINE_SECONDS": 10,
                       "SAGA_RETRY_BACKOFF_SECONDS": 0.5, "SAGA_RETRY_BACKOFF_MAX_SECONDS": 4,
                       "OUTAGE_RETRY_AFTER_SECONDS": 3})
    try:
        migrated = stack.manage("migrate", "--noinput", "-v", "0")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        stack.django(SETUP)
        stack.start_web()
        stack.start_worker()
        stack.start_beat()
        yield stack, cluster
    finally:
        stack.stop()
        cluster.destroy()


def test_a_postgres_restart_under_load_answers_503_then_every_order_settles(
        stack_on_private_postgres):
    stack, cluster = stack_on_private_postgres
    token = httpx.post(f"{stack.base_url}/api/v1/auth/token/", json={
        "email": "outage@example.com", "password": "outage-password-1"}).json()["access"]
    # given orders streaming in from two clients
    with order_stream(stack.base_url, token, ["PG-0", "PG-1", "PG-2"]) as answers:
        time.sleep(3)
        # when PostgreSQL is restarted under that load (down for 10 s)
        cluster.stop("fast")
        time.sleep(10)
        cluster.start()
        time.sleep(4)
    # then every answer was 201, or 503 in the envelope with Retry-After: never a 500
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {201, 503}, {s: statuses.count(s) for s in set(statuses)}
    assert statuses.count(503) > 0  # the outage was seen by clients
    for status, response in answers:
        if status == 503:
            body = response.json()
            assert body["error"]["code"] == "service_unavailable", body
            assert int(response.headers["Retry-After"]) == 3
    # and exactly the orders answered 201 exist: nothing committed was reported as failed
    placed = {response.json()["order_id"] for status, response in answers if status == 201}
    with psycopg.connect(cluster.url("outage")) as conn:
        stored = {str(r[0]) for r in conn.execute("SELECT order_id FROM order_views")}
    assert stored == placed
    # and the worker rode it out: every order reaches a final state, money balanced
    wait_for(lambda: not_final(cluster) == 0, timeout=180, interval=1,
             what="every order to reach a final state")
    assert stack.alive("worker"), stack.log("worker")[-3000:]
    with psycopg.connect(cluster.url("outage")) as conn:
        rows = conn.execute("""
            SELECT o.status, o.total_amount,
                   coalesce(sum(p.amount_captured - p.amount_refunded), 0)
              FROM order_views o LEFT JOIN payments p ON p.order_id = o.order_id
             GROUP BY o.order_id, o.status, o.total_amount""").fetchall()
        pending = conn.execute(
            "SELECT count(*) FROM payment_operations WHERE status = 'pending'").fetchone()[0]
    for status, total, net in rows:
        assert net == (total if status == "confirmed" else 0), (status, total, net)
    assert pending == 0
    for check in (["inventory_verify"], ["replay_events", "--verify"]):
        result = stack.manage(*check)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def not_final(cluster: PostgresCluster) -> int:
    try:
        with psycopg.connect(cluster.url("outage")) as conn:
            return conn.execute("SELECT count(*) FROM order_views WHERE status NOT IN "
                                "('confirmed', 'failed', 'cancelled')").fetchone()[0]
    except psycopg.OperationalError:
        return -1
