"""Load test with realistic customer journeys (Locust):

    pip install -e '.[load]'
    locust -f bench/locustfile.py --host http://127.0.0.1:8000          # web UI on :8089
    locust -f bench/locustfile.py --host http://127.0.0.1:8000 --headless -u 200 -r 20 -t 10m

Journeys, weighted like a shop's traffic: most visitors browse the public catalog; some fill a
guest cart, sign in, merge it and check out; some check out as guests; a few place orders
straight through the API; buyers follow their order until it is confirmed or failed and
cancel some. Payment methods mix successes,
declines and processor timeouts (the simulated gateway's test cards). Business refusals
(409 out of stock, declines) count as successes: they are correct answers.

Run it against a scratch database with plenty of stock (`python manage.py seed_demo` gives
12 skus; `bench/bench_orders.py` shows how to stock more). Figures go into docs/capacity.md.
Every request goes to --host only: point it at this machine (127.0.0.1)."""

import random
import time
import uuid

from locust import HttpUser, between, task

API = "/api/v1"
PASSWORD = "load-test-pass-2026"
ADDRESS = {"name": "Load Test", "line1": "1 Bench Street", "city": "London",
           "postal_code": "N1 9GU", "country": "GB"}
# The simulated gateway's test cards: mostly approved, some declined, a few timeouts.
PAYMENT_METHODS = ["pm_card_visa"] * 90 + ["pm_card_chargeDeclined"] * 7 + \
    ["pm_card_timeout"] * 3
FINAL = {"confirmed", "failed", "cancelled", "shipped", "delivered", "completed", "refunded"}

_skus: list[str] = []  # learnt from the catalog by the first shopper who browses
_catalog_size = [10]


class Customer(HttpUser):
    abstract = True
    wait_time = between(1, 5)

    def on_start(self):
        self.email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        self.client.post(f"{API}/auth/register/", json={"email": self.email,
                                                        "password": PASSWORD},
                         name="auth/register")
        self.sign_in()

    def sign_in(self):
        response = self.client.post(f"{API}/auth/token/", json={"email": self.email,
                                                                "password": PASSWORD},
                                    name="auth/token")
        token = response.json().get("access") if response.ok else None
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}

    def skus(self) -> list[str]:
        if not _skus:
            response = self.client.get(f"{API}/catalog/products/?page_size=100",
                                       name="catalog/products")
            if response.ok:
                _skus.extend(item["sku"] for item in response.json()["results"]
                             if item.get("availability") != "out_of_stock")
        return _skus

    def follow(self, order_id: str, *, headers: dict | None = None, polls: int = 10,
               name: str = "orders/{id}") -> str | None:
        """Poll the order as a customer's page would, until it is final."""
        for _ in range(polls):
            response = self.client.get(f"{API}/orders/{order_id}/",
                                       headers=self.auth if headers is None else headers,
                                       name=name)
            if not response.ok or response.json().get("status") in FINAL:
                return response.json().get("status") if response.ok else None
            time.sleep(1)  # locust patches time.sleep with gevent's: other users keep going
        return None

    def guest_cart(self, skus: list[str], *, lines: int) -> str | None:
        """A guest fills a cart (no JWT: the cart token names it); returns the token."""
        token = None
        for _ in range(lines):
            response = self.client.post(f"{API}/cart/items/",
                                        headers={"X-Cart-Token": token} if token else {},
                                        json={"sku": random.choice(skus), "quantity": 1},
                                        name="cart/items (guest)")
            if not response.ok:
                return None
            token = token or response.json().get("token") or response.headers.get(
                "X-Cart-Token")
        return token

    def create(self, path: str, *, headers: dict, body: dict, name: str) -> dict | None:
        """POST with an Idempotency-Key; 409 (out of stock) is a correct refusal. Returns the
        created order, or None."""
        with self.client.post(f"{API}/{path}", json=body, name=name, catch_response=True,
                              headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
                              ) as response:
            if response.status_code == 409:
                response.success()
                return None
        return response.json() if response.status_code == 201 else None

    def maybe_cancel(self, order_id: str, share: float = 0.1):
        if random.random() < share:
            with self.client.post(f"{API}/orders/{order_id}/cancel/", headers=self.auth,
                                  json={"reason": "changed my mind"}, name="orders/{id}/cancel",
                                  catch_response=True) as response:
                if response.status_code in (202, 409):  # 409: already final
                    response.success()


class Shopper(Customer):
    """Browses the catalog; now and then fills a guest cart, signs in, merges, checks out."""

    weight = 8

    @task(10)
    def browse(self):
        pages = max(1, -(-_catalog_size[0] // 10))  # pages of 10 seen so far
        # the public catalog: visitors browse without signing in
        response = self.client.get(f"{API}/catalog/products/?page_size=10&page="
                                   f"{random.randint(1, pages)}", name="catalog/products?page")
        if response.ok:
            _catalog_size[0] = response.json()["count"]

    @task(5)
    def item(self):
        skus = self.skus()
        if skus:
            self.client.get(f"{API}/catalog/products/{random.choice(skus)}/",
                            name="catalog/products/{sku}")

    @task(2)
    def guest_cart_then_checkout(self):
        skus = self.skus()
        token = self.guest_cart(skus, lines=random.randint(1, 3)) if skus else None
        if token is None:
            return
        self.client.get(f"{API}/cart/", headers={"X-Cart-Token": token}, name="cart (guest)")
        # signs in, merges the guest cart into theirs, checks out
        self.sign_in()
        self.client.post(f"{API}/cart/merge/", headers=self.auth, json={"token": token},
                         name="cart/merge")
        order = self.create("cart/checkout/", headers=self.auth, name="cart/checkout",
                            body={"shipping_address": ADDRESS,
                                  "payment_method": random.choice(PAYMENT_METHODS)})
        if order:
            self.follow(order["order_id"])
            self.maybe_cancel(order["order_id"])

    @task(1)
    def guest_checkout(self):
        """A guest buys without an account: checkout with an email, then follows the order
        with the order token the checkout answered."""
        skus = self.skus()
        token = self.guest_cart(skus, lines=1) if skus else None
        if token is None:
            return
        order = self.create("cart/checkout/", headers={"X-Cart-Token": token},
                            name="cart/checkout (guest)",
                            body={"shipping_address": ADDRESS,
                                  "email": f"guest-{uuid.uuid4().hex[:10]}@example.com",
                                  "payment_method": random.choice(PAYMENT_METHODS)})
        if order:
            self.follow(order["order_id"], polls=5, name="orders/{id} (guest)",
                        headers={"X-Order-Token": order.get("order_access_token", "")})


class ApiBuyer(Customer):
    """Places orders straight through the API (a partner integration or a mobile app)."""

    weight = 2

    @task
    def place_order(self):
        skus = self.skus()
        if not skus:
            return
        lines = [{"sku": sku, "quantity": random.randint(1, 2)}
                 for sku in random.sample(skus, k=min(len(skus), random.randint(1, 3)))]
        order = self.create("orders/", headers=self.auth, name="orders (place)",
                            body={"lines": lines, "shipping_address": ADDRESS,
                                  "payment_method": random.choice(PAYMENT_METHODS)})
        if order:
            self.follow(order["order_id"], polls=5)
            self.maybe_cancel(order["order_id"], share=0.05)

    @task(3)
    def my_orders(self):
        self.client.get(f"{API}/orders/", headers=self.auth, name="orders (list)")
