"""The PromQL the supervision layer ships, read from where it lives: the alert rules of the
prometheus role and the Grafana dashboards of the grafana role. Both checks use it:
monitoring/test-rules (offline: syntax, unit tests, coverage) and monitoring/live-check (every
expression run against a live Prometheus)."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "roles/prometheus/files/rules"
RULES_TESTS_DIR = REPO / "monitoring/rules-tests"
DASHBOARDS_DIR = REPO / "roles/grafana/files/dashboards"
# The uid of the datasource the grafana role provisions; every panel names it.
DATASOURCE_UID = "prometheus"

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
