"""Guest checkout: a guest cart checks out with an email; the order is readable with the
order access token answered once; it joins the account with that email."""

import pytest

from cart import services
from cart.refs import cart_ref_for_token
from commerce.accounts.models import User
from orders.models import OrderView
from tests.conftest import PASSWORD, auth_client

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/cart/items/"
CHECKOUT = "/api/v1/cart/checkout/"
ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}


@pytest.fixture
def guest_cart(api, item):
    token = api.post(ITEMS, {"sku": item(price="6.00").sku, "quantity": 2},
                     format="json").json()["token"]
    return {"HTTP_X_CART_TOKEN": token}


def checkout(api, cart, email="Guest@Example.com", **kw):
    return api.post(CHECKOUT, {"shipping_address": ADDRESS, "email": email}, format="json",
                    **cart, **kw)


def test_guest_checks_out_and_reads_the_order_with_its_token(api, guest_cart):
    # when a guest checks out with an email
    r = checkout(api, guest_cart)
    # then the order is placed for a guest account with that email, and the answer carries
    # the order access token
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["status"], body["total"], body["allowed_actions"]) == ("placed", "12.00", [])
    guest = User.objects.get(email="guest@example.com")
    assert guest.is_guest and not guest.has_usable_password()
    assert OrderView.objects.get().customer_id == guest.id
    token = {"HTTP_X_ORDER_TOKEN": body["order_access_token"]}
    url = f"/api/v1/orders/{body['order_id']}/"
    # and the token reads the order, its events and payments without signing in
    for path in ("", "events/", "payments/"):
        assert api.get(f"{url}{path}", **token).status_code == 200
    # while no token is 401 and a wrong one is 404 (ids are not probeable)
    assert api.get(url).status_code == 401
    assert api.get(url, HTTP_X_ORDER_TOKEN="0" * 64).status_code == 404
    # and the token grants reading only
    assert api.post(f"{url}cancel/", {"reason": "x"}, format="json", **token).status_code == 401


def test_the_token_reads_only_its_own_order(api, guest_cart, item, customer):
    first = checkout(api, guest_cart).json()
    other = services.cart_guest_create()
    services.cart_item_add(cart=cart_ref_for_token(other.token), sku=item().sku, quantity=1)
    second = checkout(api, {"HTTP_X_CART_TOKEN": other.token}).json()
    r = api.get(f"/api/v1/orders/{second['order_id']}/",
                HTTP_X_ORDER_TOKEN=first["order_access_token"])
    assert r.status_code == 404


def test_registering_with_the_email_takes_the_guest_orders(api, guest_cart):
    order_id = checkout(api, guest_cart).json()["order_id"]
    # when someone registers with that email
    r = api.post("/api/v1/auth/register/", {"email": "guest@example.com",
                                            "password": PASSWORD}, format="json")
    assert r.status_code == 201, r.json()
    user = User.objects.get(email="guest@example.com")
    assert not user.is_guest and user.check_password(PASSWORD)
    # then the order is in their account
    listed = auth_client(user).get("/api/v1/orders/").json()
    assert [o["order_id"] for o in listed["results"]] == [order_id]
    # and registering again is the usual refusal
    again = api.post("/api/v1/auth/register/", {"email": "guest@example.com",
                                                "password": PASSWORD}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "email_taken")


def test_an_existing_account_gets_the_order_when_signing_in(api, guest_cart, customer):
    order_id = checkout(api, guest_cart, email=customer.email.upper()).json()["order_id"]
    assert not User.objects.filter(is_guest=True).exists()
    token = api.post("/api/v1/auth/token/", {"email": customer.email, "password": PASSWORD},
                     format="json").json()["access"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert [o["order_id"] for o in api.get("/api/v1/orders/").json()["results"]] == [order_id]


def test_a_guest_account_cannot_sign_in(api, guest_cart):
    checkout(api, guest_cart)
    r = api.post("/api/v1/auth/token/", {"email": "guest@example.com", "password": ""},
                 format="json")
    assert r.status_code in (400, 401)


def test_duplicate_guest_checkouts_answer_the_same_order(api, guest_cart,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = checkout(api, guest_cart)
    # the cart is cleared; a duplicate submit still answers the same order and token
    second = checkout(api, guest_cart)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["order_id"] == first.json()["order_id"]
    assert second.json()["order_access_token"] == first.json()["order_access_token"]
    assert OrderView.objects.count() == 1


def test_signed_in_checkout_has_no_access_token(customer_api, item):
    customer_api.post(ITEMS, {"sku": item().sku}, format="json")
    body = customer_api.post(CHECKOUT, {"shipping_address": ADDRESS}, format="json").json()
    assert body["order_access_token"] is None
    assert body["allowed_actions"] == ["update", "cancel"]
