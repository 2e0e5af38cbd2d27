"""The queries the supervision layer ships, read from where they live: the PromQL of the
prometheus role's alert rules and of the grafana role's dashboards, and the SQL of the Weapons
dashboard. Both checks use it: monitoring/test-rules (offline: syntax, unit tests, coverage) and
monitoring/live-check (every PromQL expression run against a live Prometheus, every SQL query
against the stack's PostgreSQL as a read-only role)."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "roles/prometheus/files/rules"
RULES_TESTS_DIR = REPO / "monitoring/rules-tests"
DASHBOARDS_DIR = REPO / "roles/grafana/files/dashboards"
GRAFANA_VARS = REPO / "roles/grafana/vars/main.yml"

# Grafana's template variables as the dashboards use them, and what they stand for when an
# expression is checked outside Grafana: every value of a label, and a rate window.
TEMPLATE_VALUES = {
    "$__rate_interval": "1m",
    "$__interval": "1m",
    "$__range": "1h",
    "${instance:regex}": ".*",
    "$instance": ".*",
    "$job": ".*",
    "$topic": ".*",
}


class SourceError(Exception):
    """A rules or dashboard file that cannot be read as the checks expect."""


@dataclass(frozen=True)
class Expression:
    """One PromQL expression and where it comes from (for messages)."""

    origin: str
    expr: str


def datasource_uids():
    """{query language: uid} of the datasources the grafana role provisions, from its vars: every
    panel names one of them, PromQL targets the Prometheus one, SQL targets the PostgreSQL one."""
    grafana_vars = load_yaml(GRAFANA_VARS)
    return {"promql": grafana_vars["_grafana_datasource_uid"], "sql": grafana_vars["_grafana_weapons_datasource_uid"]}


def target_language(target):
    """`sql` for a raw SQL target, `promql` for an expression, None for anything else."""
    if "rawSql" in target:
        return "sql"
    if "expr" in target:
        return "promql"
    return None


def rule_files():
    return sorted(RULES_DIR.glob("*.yml"))


def dashboard_files():
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def load_yaml(path):
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise SourceError(f"{path}: {error}") from error


def alert_names():
    """Every alert of the rule files, in file order."""
    names = []
    for path in rule_files():
        for group in load_yaml(path).get("groups", []):
            names.extend(rule["alert"] for rule in group.get("rules", []) if "alert" in rule)
    return names


def rule_expressions():
    for path in rule_files():
        for group in load_yaml(path).get("groups", []):
            for rule in group.get("rules", []):
                name = rule.get("alert") or rule.get("record")
                yield Expression(f"{path.name}: {name}", rule["expr"])


def load_dashboard(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SourceError(f"{path}: {error}") from error


def panels(dashboard):
    """Every panel, those inside rows included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def substitute_templates(expr):
    for name, value in sorted(TEMPLATE_VALUES.items(), key=lambda item: -len(item[0])):
        expr = expr.replace(name, value)
    leftover = re.search(r"\$\{?\w+", expr)
    if leftover:
        raise SourceError(f"unknown template variable {leftover.group(0)} in {expr!r}")
    return expr


def dashboard_expressions():
    """Every target expression of every panel, template variables substituted."""
    for path in dashboard_files():
        dashboard = load_dashboard(path)
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                if "expr" not in target:
                    continue
                origin = f"{path.name}: {panel.get('title', '?')} [{target.get('refId', '?')}]"
                yield Expression(origin, substitute_templates(target["expr"]))


def dashboard_queries():
    """Every raw SQL target of every panel (the Weapons dashboard's), as written: they use no
    template variable or Grafana macro, so the live check runs them as Grafana would."""
    for path in dashboard_files():
        dashboard = load_dashboard(path)
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                if target_language(target) != "sql":
                    continue
                origin = f"{path.name}: {panel.get('title', '?')} [{target.get('refId', '?')}]"
                if re.search(r"\$\{?\w+", target["rawSql"]):
                    raise SourceError(f"{origin}: a template variable or macro in {target['rawSql']!r}")
                yield Expression(origin, target["rawSql"])
