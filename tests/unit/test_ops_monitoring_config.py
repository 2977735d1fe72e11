"""infra/monitoring: the alert rules, the Prometheus config and the Grafana dashboard are
valid for Prometheus's own tool, fire as intended, and name only metrics the code exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from streams import metrics

MONITORING = Path(__file__).resolve().parents[2] / "infra" / "monitoring"
DASHBOARD = MONITORING / "grafana" / "shaobao-dashboard.json"
PROMTOOL = shutil.which("promtool")
# Series Prometheus itself adds to every scrape target.
PROMETHEUS_OWN = {"up"}


def promtool(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL, "promtool is required (Debian's prometheus package; make test installs it)"
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, check=False, cwd=cwd)


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


def test_promtool_check_rules_accepts_the_alert_rules() -> None:
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    groups = yaml.safe_load((MONITORING / "alerts.yml").read_text(encoding="utf-8"))["groups"]
    written = sum(len(group["rules"]) for group in groups)
    assert written == 13 and f"SUCCESS: {written} rules found" in result.stdout


def test_the_alert_rules_fire_on_what_they_should_and_stay_quiet_otherwise() -> None:
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_config_accepts_the_prometheus_config_and_its_rule_file() -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets["shaobao-worker"] == ["worker:6066"] and targets["shaobao-web"] == ["web:8080"]


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


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    titles = {panel["title"].split(" ")[0] for panel in dashboard["panels"]}
    assert {"Consumer", "Throughput", "Processing", "Open", "Rejections", "Store"} <= titles
    # promtool has no "check expression": each query becomes a recording rule, which it parses.
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": expr.replace("$group", ".*")}
                    for i, expr in enumerate(exprs)
                ],
            }
        ]
    }
    (tmp_path / "dashboard_rules.yml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    result = promtool("check", "rules", "dashboard_rules.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout


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
