"""The Grafana dashboard: 25+ panels in rows, and every query reads metrics /metrics exports."""

import json
from pathlib import Path

import pytest

from tests.deploy.promql import PROMETHEUS_SERIES, metric_names

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy/grafana/commerce-dashboard.json"


@pytest.fixture(scope="module")
def dashboard():
    return json.loads(DASHBOARD.read_text())


def panels(dashboard):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # panels inside collapsed rows


def test_at_least_25_panels_in_rows(dashboard):
    rows = [p for p in dashboard["panels"] if p["type"] == "row"]
    graphs = [p for p in panels(dashboard) if p["type"] != "row"]
    assert len(graphs) >= 25
    assert {r["title"] for r in rows} >= {"Business", "Order pipeline", "Inventory", "Platform"}
    # the first panel is a row, so every panel belongs to one
    assert dashboard["panels"][0]["type"] == "row"
    assert len({p["id"] for p in panels(dashboard)}) == len(list(panels(dashboard)))


def test_business_panels_the_issue_asks_for(dashboard):
    titles = " | ".join(p["title"].lower() for p in panels(dashboard))
    for words in ("orders per minute", "conversion", "abandonment", "captured revenue",
                  "refunds", "placement → confirmed", "step latency", "compensations",
                  "queue depth", "stock conflicts", "low-stock", "reservations", "latency",
                  "5xx", "connections"):
        assert words in titles, words


def test_every_query_reads_exported_metrics(dashboard, exported):
    missing = {}
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            names = metric_names(target["expr"]) - PROMETHEUS_SERIES
            assert names or target["expr"].startswith("vector("), panel["title"]
            unknown = names - exported
            if unknown:
                missing[panel["title"]] = sorted(unknown)
    assert missing == {}


def test_no_per_process_only_metrics(dashboard):
    # process_* and python_* vanish in multiprocess mode (make run, every container)
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            assert not any(n.startswith(("process_", "python_"))
                           for n in metric_names(target["expr"])), panel["title"]
