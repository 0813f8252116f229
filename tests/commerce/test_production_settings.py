"""Production settings are clean under `manage.py check --deploy` behind a TLS proxy
(issue 11, item 9), and refuse to start without their secrets."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "x7$Jq2!vLr9#pZt4@Wm8^Kc1&Hn6*Bs3(Df5)Gy0_Ea-Ui+Ow=Qe~Rl|Tk;Pj:Ax<"
# The providers' secrets production requires (no development defaults there).
PROVIDER_SECRETS = {"PAYMENT_API_KEY": "sk_test_x", "SMS_AUTH_TOKEN": "sms-token",
                    "PUSH_API_TOKEN": "push-token", "PUSH_RECEIPT_SECRET": "push-receipts",
                    "EMAIL_RECEIPT_SECRET": "email-receipts",
                    "PUBLIC_BASE_URL": "https://shop.example.com"}


def manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"DJANGO_SETTINGS_MODULE": "commerce.settings.production", **env_overrides})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean():
    r = manage("check", "--deploy", "--fail-level", "WARNING",
               DJANGO_SECRET_KEY=SECRET, DJANGO_ALLOWED_HOSTS="shop.example.com",
               **PROVIDER_SECRETS)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "System check identified no issues" in r.stdout


def test_production_refuses_to_start_without_its_secrets():
    r = manage("check", DJANGO_ALLOWED_HOSTS="shop.example.com")
    assert r.returncode != 0 and "DJANGO_SECRET_KEY" in r.stderr


def test_behind_the_proxy_plain_http_redirects_and_https_gets_hsts():
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "c = Client(raise_request_exception=False);"
        "r = c.get('/api/v1/orders/', HTTP_HOST='shop.example.com');"
        "print(r.status_code, r.get('Location'));"
        "r = c.get('/api/v1/orders/', HTTP_HOST='shop.example.com',"
        " HTTP_X_FORWARDED_PROTO='https');"
        "print(r.status_code, r.get('Strict-Transport-Security'));"
        "print(c.get('/healthz', HTTP_HOST='shop.example.com').status_code)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="commerce.settings.production",
               DJANGO_SECRET_KEY=SECRET, DJANGO_ALLOWED_HOSTS="shop.example.com",
               **PROVIDER_SECRETS)
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "301 https://shop.example.com/api/v1/orders/",
        "401 max-age=31536000; includeSubDomains; preload",
        "200",
    ]
