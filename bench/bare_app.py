"""The reference for placement throughput: a bare DRF view doing the four statements an
order placement needs at the least (a conditional stock update, the event, the order view,
the saga row), one transaction, JWT verified without a database lookup. Served by gunicorn
from bench/bench_pipeline.py (`bench.bare_app:application`) on scratch copies of the real
tables, so the pipeline's own tables (and `replay_events --verify`) are untouched."""

import json
import os
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings.production")

import django  # noqa: E402
from django.conf import settings  # noqa: E402

django.setup()
settings.ROOT_URLCONF = __name__  # this module's urlpatterns, before the first request

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.permissions import IsAuthenticated  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication  # noqa: E402


class BarePlaceApi(APIView):
    authentication_classes = [JWTStatelessUserAuthentication]
    permission_classes = [IsAuthenticated]

    def post(self, request):
        body = request.data
        line = body["lines"][0]
        order_id, now = uuid.uuid4(), "statement_timestamp()"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE bench_bare_stock SET reserved = reserved + %s "
                           "WHERE sku = %s AND total - reserved >= %s",
                           [line["quantity"], line["sku"], line["quantity"]])
            if cursor.rowcount != 1:
                return Response({"error": {"code": "insufficient_stock"}}, status=409)
            cursor.execute(
                "INSERT INTO bench_bare_events (id, aggregate_id, aggregate_type, event_type, "
                "event_version, event_data, version, created_at) VALUES "
                f"(%s, %s, 'Order', 'OrderPlaced', 1, %s, 1, {now})",
                [uuid.uuid4(), order_id, json.dumps(body)])
            cursor.execute(
                "INSERT INTO bench_bare_orders (order_id, customer_id, status, "
                "cancellation_pending, archived, currency, subtotal, shipping_total, "
                "discount_total, tax_total, total_amount, captured_amount, refunded_amount, "
                "item_count, shipping_address, notes, payment_method, channel, carrier, "
                "tracking_number, failure_code, failure_reason, cancellation_reason, version, "
                "created_at, updated_at) VALUES (%s, %s, 'placed', false, false, 'USD', 10, "
                "0, 0, 0, 10, 0, 0, %s, %s, '', %s, 'api', '', '', '', '', '', 1, "
                f"{now}, {now})",
                [order_id, request.user.id, line["quantity"],
                 json.dumps(body["shipping_address"]), body.get("payment_method")])
            cursor.execute(
                "INSERT INTO bench_bare_sagas (id, saga_type, correlation_id, current_step, "
                "saga_data, status, deadline, attempts, last_error, created_at, updated_at) "
                f"VALUES (%s, 'order_fulfilment', %s, 0, %s, 'running', {now}, 0, '', {now}, "
                f"{now})", [uuid.uuid4(), order_id, json.dumps({"lines": body["lines"]})])
        return Response({"order_id": str(order_id)}, status=201)


urlpatterns = [path("api/v1/orders/", BarePlaceApi.as_view())]
application = get_wsgi_application()
