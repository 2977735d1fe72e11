"""Prometheus's own tool (promtool, Debian's prometheus package: `make integration` installs it)
accepts infra/monitoring's alert rules, config and dashboard queries, fires the rules as intended,
and reads the ops app's /metrics exposition."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import yaml

from streams import metrics
from streams.readiness import WorkerReadiness
from web.ops import create_ops_app

MONITORING = Path(__file__).resolve().parents[2] / "infra" / "monitoring"
DASHBOARD = MONITORING / "grafana" / "shaobao-dashboard.json"
PROMTOOL = shutil.which("promtool")


def promtool(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL, "promtool is required (Debian's prometheus package; make test installs it)"
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, check=False, cwd=cwd)


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


def client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops")  # type: ignore[arg-type]


async def test_the_exposition_passes_promtool_check_metrics() -> None:
    assert PROMTOOL, "promtool is required (Debian's prometheus package; make test installs it)"
    metrics.AGENT_EVENTS.labels("take_in_appeals", "appeals.intake", "in").inc()
    metrics.AGENT_PROCESSING.labels("take_in_appeals", "appeals.intake").observe(0.002)
    metrics.TIMER_FIRING_DELAY.labels("overdue").observe(1.5)
    metrics.TIMERS_ARMED.labels("sign").set(3)
    async with client(create_ops_app(lambda: WorkerReadiness(1, True, False))) as http:
        text = (await http.get("/metrics")).text
    result = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
