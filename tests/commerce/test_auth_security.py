"""Credential endpoints resist brute force (429 per IP and per account), logout revokes
the refresh token, and emails match whatever their letter case (issue 11, items 7 and 8)."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from commerce.accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
REGISTER = "/api/v1/auth/register/"
LOGOUT = "/api/v1/auth/logout/"


def login(email, password, ip="10.0.0.1", **extra):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json",
                            REMOTE_ADDR=ip, **extra)


def assert_throttled(r):
    assert r.status_code == 429, r.content[:300]
    error = r.json()["error"]
    assert error["code"] == "throttled"
    assert error["details"]["retry_after"] == int(r["Retry-After"]) > 0


# --- throttling -------------------------------------------------------------------------
def test_thirty_wrong_passwords_lock_the_account_not_just_fail(customer):
    # when someone guesses a password 30 times
    statuses = [login(customer.email, f"guess-{i}").status_code for i in range(30)]
    # then after 10 attempts (token_account: 10/hour) they are refused without checking
    assert statuses[:10] == [401] * 10
    assert set(statuses[10:]) == {429}
    # and even the right password is refused until the window passes
    assert_throttled(login(customer.email, PASSWORD))


def test_the_account_limit_holds_across_ips_and_letter_cases(customer):
    for i in range(10):
        login(customer.email.upper() if i % 2 else customer.email, "wrong", ip=f"10.0.1.{i}")
    assert_throttled(login(customer.email, PASSWORD, ip="10.0.9.9"))


def test_the_ip_limit_holds_across_accounts(settings, make_customer):
    settings.AUTH_THROTTLE_RATES = {**settings.AUTH_THROTTLE_RATES, "token_ip": "5/minute"}
    users = [make_customer() for _ in range(6)]
    assert [login(u.email, PASSWORD).status_code for u in users[:5]] == [200] * 5
    assert_throttled(login(users[5].email, PASSWORD))
    # another IP is unaffected, and a forged X-Forwarded-For does not make a new client
    assert login(users[5].email, PASSWORD, ip="10.0.0.2").status_code == 200
    assert_throttled(login(users[5].email, PASSWORD, HTTP_X_FORWARDED_FOR="1.2.3.4"))


def test_behind_a_proxy_the_forwarded_client_ip_counts(settings, make_customer):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.AUTH_THROTTLE_RATES = {**settings.AUTH_THROTTLE_RATES, "token_ip": "2/minute"}
    user = make_customer()
    for _ in range(2):
        login(user.email, PASSWORD, ip="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert_throttled(login(user.email, PASSWORD, ip="10.9.9.9",
                           HTTP_X_FORWARDED_FOR="198.51.100.7"))
    assert login(user.email, PASSWORD, ip="10.9.9.9",
                 HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200


def test_register_is_throttled_per_ip_and_per_email(settings):
    settings.AUTH_THROTTLE_RATES = {**settings.AUTH_THROTTLE_RATES, "register_ip": "3/hour"}
    api = APIClient()
    for i in range(3):
        r = api.post(REGISTER, {"email": f"n{i}@example.com", "password": PASSWORD},
                     format="json", REMOTE_ADDR="10.1.0.1")
        assert r.status_code == 201
    assert_throttled(api.post(REGISTER, {"email": "n9@example.com", "password": PASSWORD},
                              format="json", REMOTE_ADDR="10.1.0.1"))
    # probing one address from many IPs: 5/hour per email (its registration was the first)
    codes = [api.post(REGISTER, {"email": "N0@example.com", "password": PASSWORD},
                      format="json", REMOTE_ADDR=f"10.2.0.{i}").status_code for i in range(6)]
    assert codes == [409] * 4 + [429] * 2
    assert User.objects.filter(email__startswith="n").count() == 3


def test_refresh_is_throttled_per_account(settings, customer):
    settings.AUTH_THROTTLE_RATES = {**settings.AUTH_THROTTLE_RATES, "refresh_account": "2/minute"}
    refresh = login(customer.email, PASSWORD).json()["refresh"]
    for i in range(2):
        r = APIClient().post(REFRESH, {"refresh": refresh}, format="json",
                             REMOTE_ADDR=f"10.3.0.{i}")
        assert r.status_code == 200
        refresh = r.json()["refresh"]
    assert_throttled(APIClient().post(REFRESH, {"refresh": refresh}, format="json",
                                      REMOTE_ADDR="10.3.0.9"))


# --- logout and rotation --------------------------------------------------------------
def test_logout_revokes_the_refresh_token(customer):
    tokens = login(customer.email, PASSWORD).json()
    api = APIClient()
    assert api.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json").status_code == 204
    r = api.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert r.status_code == 401 and r.json()["error"]["code"] == "authentication_failed"
    # logging out twice is harmless; a forged token is not accepted
    assert api.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json").status_code == 204
    r = api.post(LOGOUT, {"refresh": tokens["refresh"][:-4] + "abcd"}, format="json")
    assert r.status_code == 401
    assert api.post(LOGOUT, {}, format="json").status_code == 400


def test_refresh_rotates_and_the_old_token_stops_working(customer):
    first = login(customer.email, PASSWORD).json()["refresh"]
    r = APIClient().post(REFRESH, {"refresh": first}, format="json")
    assert r.status_code == 200 and r.json()["refresh"] != first
    assert APIClient().post(REFRESH, {"refresh": first}, format="json").status_code == 401


def test_expired_refresh_tokens_are_purged(customer):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from commerce.accounts.tasks import purge_expired_tokens

    login(customer.email, PASSWORD)
    login(customer.email, PASSWORD)
    OutstandingToken.objects.filter(pk=OutstandingToken.objects.first().pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert purge_expired_tokens() == 1
    assert OutstandingToken.objects.count() == 1
    assert purge_expired_tokens() == 0


# --- email letter case ------------------------------------------------------------------
def test_login_ignores_the_letter_case_of_the_email():
    api = APIClient()
    r = api.post(REGISTER, {"email": "Mixed@Example.COM", "password": PASSWORD}, format="json")
    assert r.status_code == 201 and r.json()["email"] == "mixed@example.com"
    for spelling in ("Mixed@Example.COM", "mixed@example.com", " MIXED@EXAMPLE.COM"):
        assert login(spelling, PASSWORD, ip="10.4.0.1").status_code == 200, spelling
    again = api.post(REGISTER, {"email": "MIXED@example.com", "password": PASSWORD},
                     format="json")
    assert again.status_code == 409


def test_the_database_refuses_two_accounts_differing_in_case():
    from django.db import IntegrityError, transaction

    User.objects.create_user(email="case@example.com", password=PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        User(email="CASE@example.com").save()
