"""Alert rules: each has a summary, a runbook section and promtool unit tests that fire it and
keep it quiet; each reads metrics /metrics exports. (.ci/run runs `promtool check rules` and
`promtool test rules` on the same files.)"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.promql import PROMETHEUS_SERIES, metric_names

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy/prometheus"


@pytest.fixture(scope="module")
def rules():
    groups = yaml.safe_load((PROM / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


@pytest.fixture(scope="module")
def alerts(rules):
    return {rule["alert"]: rule for rule in rules if "alert" in rule}


@pytest.fixture(scope="module")
def unit_tests():
    cases = []
    for path in sorted(PROM.glob("*.test.yml")):
        for test in yaml.safe_load(path.read_text())["tests"]:
            cases.extend(test.get("alert_rule_test", []))
    return cases


def test_at_least_25_alerts_with_summary_severity_and_runbook(alerts):
    assert len(alerts) >= 25
    runbook = (ROOT / "docs/runbook.md").read_text()
    headings = {h.strip().lower() for h in re.findall(r"^#{2,4} (.+)$", runbook, re.M)}
    for name, rule in alerts.items():
        assert rule["annotations"]["summary"], name
        assert rule["labels"]["severity"] in {"page", "ticket"}, name
        assert rule["annotations"]["runbook_url"] == f"docs/runbook.md#{name.lower()}", name
        assert name.lower() in headings, f"{name} has no section in docs/runbook.md"


def test_the_alerts_the_issue_lists_exist(alerts):
    for name in ("CommerceTargetDown", "CommerceNoWorkerHeartbeat", "CommerceQueueBacklog",
                 "CommerceQueueLatency", "CommerceOrderStuck", "CommerceOutboxLag",
                 "CommerceExternalServiceErrors", "CommerceExternalServiceTimeouts",
                 "CommercePaymentErrors", "CommerceInventoryDrift", "CommerceSagasFailed",
                 "CommerceHigh5xxRatio", "CommerceErrorBudgetBurnFast",
                 "CommerceErrorBudgetBurnMedium", "CommerceDatabaseConnectionsSaturated"):
        assert name in alerts


def test_declines_never_page(alerts):
    # business refusals: only the unusual-ratio alert reads declines, and it is a ticket
    for name, rule in alerts.items():
        if 'outcome="declined"' in rule["expr"]:
            assert rule["labels"]["severity"] == "ticket", name
    assert "payment_declined" in alerts["CommerceOrderFailures"]["expr"]  # excluded there
    assert "declined" not in alerts["CommercePaymentErrors"]["expr"]


def test_every_alert_has_a_firing_and_a_quiet_unit_test(alerts, unit_tests):
    fired = {case["alertname"] for case in unit_tests if case.get("exp_alerts")}
    quiet = {case["alertname"] for case in unit_tests if not case.get("exp_alerts")}
    assert set(alerts) - fired == set()
    assert set(alerts) - quiet == set()


def test_every_rule_reads_exported_metrics(rules, exported):
    recorded = {rule["record"] for rule in rules if "record" in rule}
    missing = {}
    for rule in rules:
        unknown = metric_names(rule["expr"]) - exported - recorded - PROMETHEUS_SERIES
        if unknown:
            missing[rule.get("alert") or rule["record"]] = sorted(unknown)
    assert missing == {}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed "
                    "(.ci/run installs it and runs the same check)")
def test_promtool_check_rules():
    result = subprocess.run(["promtool", "check", "rules", str(PROM / "alerts.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_metric_names_parser():
    expr = ('histogram_quantile(0.95, sum by (le, view) (rate(x_bucket{status=~"5.."}[5m])))'
            ' / on () (sum(rate(y_total[$__rate_interval] offset 1w)) or vector(0)) > 2e-3'
            ' and time() - max(commerce:z:rate5m) > 1')
    assert metric_names(expr) == {"x_bucket", "y_total", "commerce:z:rate5m"}
