"""monitoring/: Prometheus configs and alert rules pass promtool (and the alerts' own unit
tests), the Grafana dashboard parses and only queries series the workers export."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from tests.deploy.support import ROOT, exported_metric_names, promql_metric_names, tool

MON = ROOT / "monitoring"
DASHBOARD = MON / "grafana/dashboards/enginedge-workers.json"
#: Series Prometheus itself records per target (not from /metrics).
PROMETHEUS_SERIES = {"up"}


def promtool(*args, cwd=MON):
    out = subprocess.run(
        [tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    return out.returncode, out.stdout + out.stderr


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-kubernetes.yml"])
def test_promtool_checks_the_scrape_config(config):
    code, out = promtool("check", "config", config)
    assert code == 0 and "SUCCESS" in out, out
    doc = yaml.safe_load((MON / config).read_text())
    assert "enginedge-workers" in {j["job_name"] for j in doc["scrape_configs"]}
    assert doc["rule_files"] == ["alerts.yml"]


def test_promtool_checks_and_unit_tests_the_alert_rules():
    code, out = promtool("check", "rules", "alerts.yml")
    assert code == 0 and "SUCCESS: 6 rules found" in out, out
    code, out = promtool("test", "rules", "alerts.test.yml")
    assert code == 0 and "SUCCESS" in out, out


def test_promtool_rejects_a_broken_rule(tmp_path):
    (tmp_path / "bad.yml").write_text(
        "groups:\n- name: x\n  rules:\n  - alert: Bad\n    expr: sum by (worker_type (up)\n"
    )
    code, out = promtool("check", "rules", "bad.yml", cwd=tmp_path)
    assert code != 0 and "FAILED" in out, out


def alert_rules():
    return [
        r for g in yaml.safe_load((MON / "alerts.yml").read_text())["groups"] for r in g["rules"]
    ]


def test_alerts_cover_the_issue_and_use_exported_series():
    names = {r["alert"] for r in alert_rules()}
    assert {
        "EnginEdgeWorkerDown",
        "EnginEdgeHighErrorRate",
        "EnginEdgeConsumerLagHigh",
        "EnginEdgeDeadLettersGrowing",
        "EnginEdgeHighLatency",
    } <= names
    allowed = exported_metric_names() | PROMETHEUS_SERIES
    for rule in alert_rules():
        used = promql_metric_names(rule["expr"])
        assert used and used <= allowed, (rule["alert"], used - allowed)
    assert "up" in promql_metric_names('up{job="enginedge-workers"} == 0')


def dashboard_exprs():
    dash = json.loads(DASHBOARD.read_text())
    return dash, [(p["title"], t["expr"]) for p in dash["panels"] for t in p["targets"]]


def grafana_to_promql(expr):
    """Substitute Grafana's variables the way Grafana does before querying."""
    return (
        expr.replace("$__rate_interval", "1m")
        .replace("$__range", "1h")
        .replace('=~"$worker_type"', '=~".*"')
    )


def test_dashboard_parses_and_covers_the_guide_metrics():
    dash, exprs = dashboard_exprs()
    assert dash["uid"] and dash["title"] and dash["panels"]
    assert {v["name"] for v in dash["templating"]["list"]} == {"datasource", "worker_type"}
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    used = set().union(*(promql_metric_names(e) for _, e in exprs))
    for metric in (
        "worker_commands_total",
        "worker_command_duration_seconds_bucket",
        "worker_consumer_lag",
        "worker_dead_letters_total",
        "worker_memory_usage_bytes",
        "worker_cpu_usage_percent",
        "worker_external_api_errors_total",
    ):
        assert metric in used, metric
    text = " ".join(e for _, e in exprs)
    for q in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({q}," in text


def test_dashboard_only_references_metrics_the_workers_export():
    _, exprs = dashboard_exprs()
    exported = exported_metric_names()
    for title, expr in exprs:
        used = promql_metric_names(expr)
        assert used, (title, expr)
        assert used <= exported, (title, used - exported)


def test_dashboard_queries_are_valid_promql(tmp_path):
    """Every panel query (variables substituted) as a recording rule, through promtool."""
    _, exprs = dashboard_exprs()
    rules = [
        {"record": f"enginedge:dashboard_query_{i}", "expr": grafana_to_promql(e)}
        for i, (_, e) in enumerate(exprs)
    ]
    (tmp_path / "queries.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]})
    )
    code, out = promtool("check", "rules", "queries.yml", cwd=tmp_path)
    assert code == 0 and f"SUCCESS: {len(rules)} rules found" in out, out


def test_prometheus_adapter_serves_the_hpa_metric(tmp_path):
    values = yaml.safe_load((MON / "prometheus-adapter-values.yaml").read_text())
    (rule,) = values["rules"]["external"]
    assert rule["name"]["as"] == "kafka_consumergroup_lag"
    assert promql_metric_names(rule["seriesQuery"]) == {"kafka_consumergroup_lag"}
    query = (
        rule["metricsQuery"]
        .replace("<<.Series>>", "kafka_consumergroup_lag")
        .replace("<<.LabelMatchers>>", 'topic="worker.llm.requests",consumergroup="enginedge-llm"')
        .replace("<<.GroupBy>>", "namespace")
    )
    (tmp_path / "adapter.yml").write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {
                        "name": "adapter",
                        "rules": [
                            {"record": "adapter:series", "expr": rule["seriesQuery"]},
                            {"record": "adapter:metric", "expr": query},
                        ],
                    }
                ]
            }
        )
    )
    code, out = promtool("check", "rules", "adapter.yml", cwd=tmp_path)
    assert code == 0, out
    assert re.search(r"sum\(.*\) by \(", rule["metricsQuery"])
