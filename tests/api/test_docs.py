"""Swagger UI and ReDoc come from local assets (drf-spectacular-sidecar), never a CDN."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_only_local_assets(api, url):
    r = api.get(url)
    assert r.status_code == 200
    html = r.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assets = [s for s in sources if s.endswith((".js", ".css", ".png"))]
    assert assets, html[:500]
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
