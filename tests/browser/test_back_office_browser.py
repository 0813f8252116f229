"""The back office in a real browser (Playwright driving Debian's chromium against a live
server): support staff find an order by the customer's email and refund part of it;
inventory staff receive stock. Screenshots go to BROWSER_ARTIFACTS_DIR (default
`artifacts/browser/`, git-ignored) for CI to keep."""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connections

from commerce.accounts import roles
from inventory.models import InventoryItem
from orders import services as order_services
from orders.selectors import order_get
from tests.conftest import PASSWORD
from tests.factories import make_item

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS_DIR", "artifacts/browser"))
ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)",
                    pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)",
                allow_module_level=True)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # The test's own ORM calls run while Playwright's event loop is alive in this thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()
        # ORM calls made while Playwright ran used this context's own connection.
        connections.close_all()


def sign_in(browser, live_server, email):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content")
    return page


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_support_refunds_part_of_an_order_found_by_email(browser, live_server, make_customer,
                                                          make_staff):
    # given a delivered, paid order of alice (the fulfilment saga runs on commit)
    alice = make_customer("alice.browser@example.com")
    item = make_item(name="Blue mug", price="12.50", quantity=20)
    placed = order_services.order_place(
        customer_id=alice.id, lines=[{"sku": item.sku, "quantity": 2}],
        shipping_address=ADDRESS, payment_method="pm_card_visa")
    assert order_get(order_id=placed.order_id).status == "confirmed"
    order_services.order_ship(order_id=placed.order_id, carrier="DHL", tracking_number="JD1")
    order_services.order_deliver(order_id=placed.order_id)
    make_staff(roles.SUPPORT, email="support.browser@example.com")

    # when support signs in and finds the order by the customer's email
    page = sign_in(browser, live_server, "support.browser@example.com")
    page.click(".app-orders a[href$='/admin/orders/orderview/']")
    page.fill("#searchbar", "alice.browser")
    page.press("#searchbar", "Enter")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "alice.browser@example.com" in rows.first.inner_text()
    shot(page, "01-orders-found-by-email")
    rows.first.locator("th a, td a").first.click()
    page.wait_for_selector("#transitions")
    # the order page fits the screen: transitions sit with the order, nothing overflows
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    shot(page, "02-order-page")

    # and refunds part of it
    form = page.locator("#transitions form", has=page.locator("input[name=amount]"))
    assert form.locator("input[name=amount]").input_value() == "25.00"
    form.locator("input[name=amount]").fill("7.50")
    form.locator("input[name=reason]").fill("one mug arrived chipped")
    form.locator("input[type=submit]").click()
    page.wait_for_selector(".messagelist")

    # then the page says so and shows the refunded amount; the order keeps the rest
    assert "Refund: order" in page.locator(".messagelist").inner_text()
    assert "7.50" in page.locator(".field-refunded_amount").inner_text()
    history = page.locator(".field-event_history").inner_text()
    assert "one mug arrived chipped" in history
    assert "support.browser@example.com" in history  # the actor, as an email
    shot(page, "03-order-refunded")
    order = order_get(order_id=placed.order_id)
    assert (order.refunded_amount, order.status) == (7.50, "delivered")


def test_inventory_staff_receive_stock(browser, live_server, make_staff):
    # given an item with 3 units and an inventory staff member
    make_item(sku="MUG-BLUE", name="Blue mug", quantity=3)
    staff = make_staff(roles.INVENTORY, email="inventory.browser@example.com")
    # (until the roles carry model permissions: issue 11)
    staff.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="inventory", codename__in=[
            "view_inventoryitem", "change_inventoryitem"]))

    # when they select the item and receive 12 units
    page = sign_in(browser, live_server, "inventory.browser@example.com")
    page.goto(f"{live_server.url}/admin/inventory/inventoryitem/?q=MUG-BLUE")
    page.check("#result_list tbody tr input.action-select")
    page.select_option("select[name=action]", "receive_stock")
    page.click("button[name=index], .actions button")
    page.wait_for_selector("input[name=quantity]")
    shot(page, "04-receive-stock-form")
    page.fill("input[name=quantity]", "12")
    page.fill("input[name=reason]", "delivery 4711")
    page.click("input[type=submit][value=Receive]")
    page.wait_for_selector(".messagelist")

    # then the page confirms it and the list shows the new stock
    assert "Received 12 units for 1 item(s)." in page.locator(".messagelist").inner_text()
    row = page.locator("#result_list tbody tr").first.inner_text()
    assert "MUG-BLUE" in row and "15" in row
    shot(page, "05-stock-received")
    assert InventoryItem.objects.get(sku="MUG-BLUE").total == 15

