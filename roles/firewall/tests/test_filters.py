#!/usr/bin/env python3
"""Unit tests of the firewall role's filters (filter_plugins/firewall.py), on the Vagrant
inventory's hosts and groups and the roles' real defaults.

    python3 roles/firewall/tests/test_filters.py      (needs ansible importable: the project's venv)
"""

import sys
import unittest
from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parent.parent
REPO = ROLE.parent.parent
sys.path.insert(0, str(ROLE / "filter_plugins"))

import firewall  # noqa: E402  (the role's filter plugin module, found through the path above)
from ansible.errors import AnsibleFilterError  # noqa: E402

FLOWS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())["firewall_flows"]


def vagrant():
    """hostvars and groups of inventory/vagrant: hosts.yml and the group_vars they use here."""
    inventory = REPO / "inventory" / "vagrant"
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())["all"]
    groups = {"all": list(hosts["hosts"])}

    def walk(name, group):
        members = set(group.get("hosts") or {})
        for child, child_group in (group.get("children") or {}).items():
            members |= walk(child, child_group or {})
        groups[name] = sorted(members)
        return members

    for name, group in hosts["children"].items():
        walk(name, group or {})
    group_vars = {}
    for path in (inventory / "group_vars").glob("*.yml"):
        group_vars[path.stem] = yaml.safe_load(path.read_text()) or {}
    hostvars = {}
    for host, settings in hosts["hosts"].items():
        # Ansible's order: group all, then the host's other groups, then the host's own.
        merged = yaml.safe_load((inventory / "group_vars" / "all" / "main.yml").read_text())
        for group, members in groups.items():
            if host in members and group in group_vars:
                merged.update({k: v for k, v in group_vars[group].items() if "{{" not in str(v)})
        merged.update(settings)
        hostvars[host] = merged
    return hostvars, groups


HOSTVARS, GROUPS = vagrant()
ADDRESS = {host: settings["ansible_host"] for host, settings in HOSTVARS.items()}


def rules(host, flows=FLOWS, hostvars=HOSTVARS, groups=GROUPS, admin=("192.168.56.1/32",)):
    return {rule["name"]: rule for rule in firewall.firewall_rules(flows, host, hostvars, groups, REPO / "roles", admin)}


def sources(*hosts):
    return {"ip": sorted(ADDRESS[h] for h in hosts), "ip6": []}


class Rules(unittest.TestCase):
    def test_postgresql_opens_to_its_clients_only(self):
        db = rules("db-1")
        self.assertEqual(db["PostgreSQL (pipeline, Hive metastore, Grafana's Weapons dashboard)"],
                         {"name": "PostgreSQL (pipeline, Hive metastore, Grafana's Weapons dashboard)",
                          "ports": [5432], "sources": sources("pipeline-1", "hive-1", "monitor-1")})
        self.assertEqual(db["postgres_exporter"]["ports"], [9187])
        self.assertEqual(db["postgres_exporter"]["sources"], sources("monitor-1"))
        self.assertNotIn("HiveServer2", db)
        self.assertNotIn("Kafka clients and inter-broker replication", db)

    def test_brokers_take_the_pipeline_and_each_other_but_not_themselves(self):
        broker = rules("kafka-1")["Kafka clients and inter-broker replication"]
        self.assertEqual(broker["ports"], [9092])
        self.assertEqual(broker["sources"], sources("kafka-2", "kafka-3", "pipeline-1"))
        controller = rules("kafka-2")["KRaft controller quorum"]
        self.assertEqual((controller["ports"], controller["sources"]), ([9093], sources("kafka-1", "kafka-3")))

    def test_ports_come_from_the_host_variables_before_the_role_defaults(self):
        hostvars = {host: dict(settings) for host, settings in HOSTVARS.items()}
        hostvars["db-1"]["postgresql_port"] = 6543
        db = rules("db-1", hostvars=hostvars)
        self.assertEqual(db["PostgreSQL (pipeline, Hive metastore, Grafana's Weapons dashboard)"]["ports"], [6543])

    def test_disabled_flows_and_loopback_addresses_open_nothing(self):
        hostvars = {host: dict(settings) for host, settings in HOSTVARS.items()}
        for host in hostvars:
            hostvars[host].pop("cadvisor_enabled", None)
            hostvars[host].pop("mhfz_pipeline_consumer_metrics_addr", None)
        pipeline = rules("pipeline-1", hostvars=hostvars)
        self.assertNotIn("cAdvisor", pipeline)  # the cadvisor role's default: off
        self.assertNotIn("The consumer's /metrics", pipeline)  # its default listens on 127.0.0.1
        self.assertEqual(rules("pipeline-1")["The consumer's /metrics"]["ports"], [9464])

    def test_mappings_of_ports_and_every_port(self):
        master = rules("hadoop-master")
        self.assertEqual(master["Hadoop JMX exporters"]["ports"], [9405, 9406, 9407, 9408, 9410])
        everything = master["Hadoop daemons, from their clients and tasks"]
        self.assertIsNone(everything["ports"])
        self.assertEqual(everything["sources"], sources("hadoop-worker-1", "hive-1", "pipeline-1"))
        # The clients only use the daemons: nothing is opened on them for Hadoop.
        self.assertNotIn("Hadoop daemons, from their clients and tasks", rules("pipeline-1"))

    def test_admin_networks_and_any(self):
        grafana = rules("monitor-1")["Grafana"]
        self.assertEqual(grafana["sources"], {"ip": ["192.168.56.1"], "ip6": []})
        flows = [{"name": "web", "to": "grafana", "from": ["any"], "ports": ["grafana:grafana_http_port"]}]
        self.assertEqual(rules("monitor-1", flows=flows)["web"], {"name": "web", "ports": [3000], "sources": None})
        flows[0]["from"] = ["admin"]
        mixed = rules("monitor-1", flows=flows, admin=["10.1.0.0/16", "fd00::/8"])["web"]["sources"]
        self.assertEqual(mixed, {"ip": ["10.1.0.0/16"], "ip6": ["fd00::/8"]})

    def test_a_host_outside_every_group_gets_only_the_all_flows(self):
        groups = dict(GROUPS, all=GROUPS["all"] + ["outsider"])
        hostvars = dict(HOSTVARS, outsider={"ansible_host": "192.168.56.99"})
        self.assertEqual(sorted(rules("outsider", hostvars=hostvars, groups=groups)), ["node_exporter"])


class Errors(unittest.TestCase):
    def test_a_bad_reference_is_named(self):
        for ports, message in ((["kafka"], "not ROLE:VARIABLE"), (["kafka:no_such_port"], "no default no_such_port"),
                               (["nosuchrole:x"], "no defaults for role nosuchrole"),
                               (["kafka:kafka_listen_address"], "names no port")):
            flows = [{"name": "bad", "to": "kafka", "from": ["pipeline"], "ports": ports}]
            with self.assertRaisesRegex(AnsibleFilterError, message):
                rules("kafka-1", flows=flows)

    def test_a_host_without_an_address_is_named(self):
        hostvars = {host: dict(settings) for host, settings in HOSTVARS.items()}
        hostvars["pipeline-1"]["ansible_host"] = "pipeline-1.example"
        with self.assertRaisesRegex(AnsibleFilterError, "no address for pipeline-1"):
            rules("db-1", hostvars=hostvars)
        hostvars["pipeline-1"]["ansible_facts"] = {"default_ipv4": {"address": "10.9.9.9"}}
        self.assertIn("10.9.9.9", rules("db-1", hostvars=hostvars)[
            "PostgreSQL (pipeline, Hive metastore, Grafana's Weapons dashboard)"]["sources"]["ip"])

    def test_networks_are_checked(self):
        self.assertEqual(firewall.firewall_networks(["10.0.0.5/24"], "x"), ["10.0.0.0/24"])
        with self.assertRaisesRegex(AnsibleFilterError, "x: 'nonsense' is not a network"):
            firewall.firewall_networks(["nonsense"], "x")


if __name__ == "__main__":
    unittest.main()
