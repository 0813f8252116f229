"""The public catalog: anyone browses what is for sale; only staff see exact counts."""

import pytest

from commerce.accounts import roles
from inventory.services import stock_adjust
from tests.conftest import auth_client
from tests.factories import make_item

pytestmark = pytest.mark.django_db

URL = "/api/v1/catalog/products/"


@pytest.fixture
def shelf():
    return [make_item(sku="CAT-A", name="Blue mug", price="8.00", quantity=50,
                      product_id="prod_mug"),
            make_item(sku="CAT-B", name="Red mug", price="9.50", quantity=3,
                      product_id="prod_mug"),
            make_item(sku="CAT-C", name="Teapot", price="30.00", quantity=0),
            make_item(sku="CAT-OFF", name="Old mug", quantity=5, active=False)]


def test_anyone_lists_what_is_for_sale_with_an_availability_band(api, shelf):
    # when a guest (no token) lists the catalog
    r = api.get(URL)
    # then active products only, with band and no exact counts
    assert r.status_code == 200
    body = r.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert [(p["sku"], p["name"], p["price"], p["currency"], p["availability"],
             p["available_quantity"]) for p in body["results"]] == [
        ("CAT-A", "Blue mug", "8.00", "USD", "in_stock", None),
        ("CAT-B", "Red mug", "9.50", "USD", "low_stock", None),
        ("CAT-C", "Teapot", "30.00", "USD", "out_of_stock", None)]
    assert body["results"][0]["product_id"] == "prod_mug"


def test_staff_see_exact_counts(make_staff, shelf):
    staff = auth_client(make_staff(roles.SUPPORT))
    assert [p["available_quantity"] for p in staff.get(URL).json()["results"]] == [50, 3, 0]
    assert staff.get(f"{URL}CAT-B/").json()["available_quantity"] == 3


def test_customers_see_no_counts(customer_api, shelf):
    assert customer_api.get(f"{URL}CAT-A/").json()["available_quantity"] is None


def test_search_filters_ordering_and_pages(api, shelf):
    def skus(**query):
        return [p["sku"] for p in api.get(URL, query).json()["results"]]

    assert skus(q="mug") == ["CAT-A", "CAT-B"]
    assert skus(q="cat-c") == ["CAT-C"]
    assert skus(availability="low_stock") == ["CAT-B"]
    assert skus(product_id="prod_mug", ordering="-price") == ["CAT-B", "CAT-A"]
    assert skus(min_price="9.00", max_price="30.00") == ["CAT-B", "CAT-C"]
    assert skus(currency="EUR") == []
    page = api.get(URL, {"page_size": 2, "page": 2}).json()
    assert (page["count"], [p["sku"] for p in page["results"]]) == (3, ["CAT-C"])
    assert page["previous"] is not None and page["next"] is None
    assert api.get(URL, {"availability": "plenty"}).status_code == 400
    assert api.get(URL, {"page": 9}).json()["error"]["code"] == "not_found"


def test_band_follows_stock(api, shelf):
    stock_adjust(sku="CAT-A", delta=-46, reason="count")  # 4 left: at most the threshold 5
    assert api.get(f"{URL}CAT-A/").json()["availability"] == "low_stock"


def test_unknown_or_withdrawn_product_is_404(api, shelf):
    for sku in ("CAT-OFF", "NOPE"):
        r = api.get(f"{URL}{sku}/")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


def test_list_query_count_is_constant(api, shelf, django_assert_num_queries):
    with django_assert_num_queries(2):  # count, page
        assert len(api.get(URL).json()["results"]) == 3
