"""infra/monitoring: the alert rules and the Grafana dashboard name only metrics the code exports,
with a severity and a summary each (Prometheus's own tool runs in tests/integration/test_promtool.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from streams import metrics

MONITORING = Path(__file__).resolve().parents[2] / "infra" / "monitoring"
DASHBOARD = MONITORING / "grafana" / "shaobao-dashboard.json"
# Series Prometheus itself adds to every scrape target.
PROMETHEUS_OWN = {"up"}


def exported_series() -> set[str]:
    """Every series name the registry can expose, whether or not it has samples yet."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    return {
        family.name + suffix
        for family in metrics.REGISTRY.collect()
        for suffix in suffixes.get(family.type, ("",))
    }


def shaobao_names(expr: str) -> set[str]:
    return set(re.findall(r"\bshaobao_[a-z_]+\b", expr))


def test_every_rule_has_a_severity_and_a_summary_in_chinese_and_english() -> None:
    groups = yaml.safe_load((MONITORING / "alerts.yml").read_text(encoding="utf-8"))["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {
        "ShaobaoConsumerLagHigh",
        "ShaobaoWorkerDown",
        "ShaobaoIntakeRejectionsSpike",
        "ShaobaoStoreErrors",
        "ShaobaoOverdueTickets",
    }
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert "for" in rule, rule["alert"]
        summary = rule["annotations"]["summary"]
        assert re.search(r"[\u4e00-\u9fff]", summary) and re.search(r" / [A-Z]", summary), rule["alert"]


def test_rules_and_dashboard_name_only_metrics_the_code_exports() -> None:
    exported = exported_series() | PROMETHEUS_OWN
    rules_text = (MONITORING / "alerts.yml").read_text(encoding="utf-8")
    dashboard_text = DASHBOARD.read_text(encoding="utf-8")
    assert shaobao_names(rules_text) - exported == set()
    assert shaobao_names(dashboard_text) - exported == set()
    assert len(shaobao_names(dashboard_text)) >= 10


def test_grafana_is_provisioned_with_the_data_source_the_dashboard_uses() -> None:
    provisioning = MONITORING / "grafana" / "provisioning"
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text(encoding="utf-8"))
    [source] = sources["datasources"]
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = {target["datasource"]["uid"] for panel in dashboard["panels"] for target in panel["targets"]}
    assert used == {source["uid"]} and source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((provisioning / "dashboards" / "shaobao.yml").read_text(encoding="utf-8"))
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_metric_names_follow_prometheus_conventions() -> None:
    ours = sorted(name for name in exported_series() if name.startswith("shaobao_"))
    assert len(ours) >= 20
    for name in ours:
        assert re.fullmatch(r"shaobao_[a-z]+(_[a-z]+)*", name), name
        assert not re.search(r"_(ms|milliseconds|minutes|hours)(_|$)", name), f"{name}: base units only"
