#!/usr/bin/env python3
"""Unit tests of the kafka role's filters (filter_plugins/kafka.py).

    python3 roles/kafka/tests/test_filters.py      (needs ansible importable: the project's venv)
"""

import base64
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "filter_plugins"))

import kafka  # noqa: E402  (the role's filter plugin module, found through the path above)

DESCRIBE = (
    "Topic: t1\tTopicId: nVSdKJB1T5uz48CCcmisjw\tPartitionCount: 2\tReplicationFactor: 3\t"
    "Configs: min.insync.replicas=2,cleanup.policy=compact,delete,retention.ms=5000\n"
    "\tTopic: t1\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2,3\tElr: \tLastKnownElr: \n"
    "Topic: t2\tTopicId: AAAAAAAAAAAAAAAAAAAAAQ\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \n"
)

# AclCommand --list as Kafka 4.4 prints it (one extra entry from someone else, one DENY).
ACLS = (
    "Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=mhfz-consumer, patternType=LITERAL)`:\n"
    "\t(principal=User:mhfz-consumer, host=*, operation=READ, permissionType=ALLOW)\n"
    "\n"
    "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=weapon_data, patternType=LITERAL)`:\n"
    "\t(principal=User:mhfz-scraper, host=*, operation=WRITE, permissionType=ALLOW)\n"
    "\t(principal=User:mhfz-consumer, host=*, operation=READ, permissionType=ALLOW)\n"
    "\t(principal=User:intruder, host=*, operation=ALL, permissionType=ALLOW)\n"
    "\n"
    "Current ACLs for resource `ResourcePattern(resourceType=TRANSACTIONAL_ID, name=tx-, patternType=PREFIXED)`:\n"
    "\t(principal=User:mhfz-scraper, host=10.0.0.1, operation=IDEMPOTENT_WRITE, permissionType=DENY)\n"
)
PIPELINE_ACLS = [
    {"principal": "mhfz-scraper", "resource_type": "topic", "resource_name": "weapon_data",
     "operations": ["Write", "Describe"]},
    {"principal": "mhfz-consumer", "resource_type": "topic", "resource_name": "weapon_data",
     "pattern_type": "literal", "operations": ["Read"]},
    {"principal": "mhfz-consumer", "resource_type": "group", "resource_name": "mhfz-consumer",
     "operations": ["Read"]},
]


class ClusterId(unittest.TestCase):
    def test_same_name_same_id_and_kafka_format(self):
        first = kafka.kafka_cluster_id("mhfz")
        self.assertEqual(first, kafka.kafka_cluster_id("mhfz"))
        self.assertEqual(len(first), 22)
        self.assertEqual(len(base64.urlsafe_b64decode(first + "==")), 16)
        self.assertTrue(kafka.kafka_valid_cluster_id(first))

    def test_names_differ_ids_differ(self):
        self.assertNotEqual(kafka.kafka_cluster_id("a"), kafka.kafka_cluster_id("b"))

    def test_never_starts_with_a_dash(self):
        ids = [kafka.kafka_cluster_id(f"cluster-{n}") for n in range(2000)]
        self.assertFalse([i for i in ids if i.startswith("-")])

    def test_validation(self):
        self.assertTrue(kafka.kafka_valid_cluster_id("8izsbbQuRLeqaHDQKfB66g"))
        for bad in ["-izsbbQuRLeqaHDQKfB66g", "AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAQ", "short", "", None,
                    "8izsbbQuRLeqaHDQKfB66g=", "8izsbbQuRLeqaHDQKfB6+g"]:
            self.assertFalse(kafka.kafka_valid_cluster_id(bad), bad)

    def test_empty_name_is_an_error(self):
        with self.assertRaises(Exception):
            kafka.kafka_cluster_id("")


class Topics(unittest.TestCase):
    def test_describe_parsed(self):
        self.assertEqual(
            kafka.kafka_topics_described(DESCRIBE),
            {
                "t1": {
                    "partitions": 2,
                    "replication_factor": 3,
                    "configs": {"min.insync.replicas": "2", "cleanup.policy": "compact,delete", "retention.ms": "5000"},
                },
                "t2": {"partitions": 1, "replication_factor": 1, "configs": {}},
            },
        )

    def test_plan(self):
        wanted = [
            {"name": "t1", "partitions": "3", "replication_factor": 3,
             "configs": {"retention.ms": 5000, "cleanup.policy": ["compact", "delete"], "preallocate": True}},
            {"name": "t2", "partitions": 1, "replication_factor": 1, "configs": {}},
            {"name": "t3", "partitions": 2, "replication_factor": 1, "configs": {"retention.ms": 1}},
        ]
        plan = kafka.kafka_topic_plan(wanted, kafka.kafka_topics_described(DESCRIBE))
        self.assertEqual([t["name"] for t in plan["create"]], ["t3"])
        self.assertEqual([(t["name"], t["partitions"]) for t in plan["add_partitions"]], [("t1", 3)])
        self.assertEqual(plan["alter_configs"][0]["configs"], {"preallocate": "true"})
        self.assertEqual(plan["problems"], [])

    def test_nothing_to_do_when_as_wanted(self):
        current = kafka.kafka_topics_described(DESCRIBE)
        wanted = [{"name": "t1", "partitions": 2, "replication_factor": 3, "configs": {"retention.ms": "5000"}}]
        self.assertEqual(
            kafka.kafka_topic_plan(wanted, current),
            {"create": [], "add_partitions": [], "alter_configs": [], "problems": []},
        )

    def test_impossible_changes_are_problems(self):
        current = kafka.kafka_topics_described(DESCRIBE)
        plan = kafka.kafka_topic_plan([{"name": "t1", "partitions": 1, "replication_factor": 2}], current)
        self.assertEqual(len(plan["problems"]), 2)
        self.assertIn("partitions cannot be removed", plan["problems"][0])
        self.assertIn("replication factor 3", plan["problems"][1])
        self.assertEqual(plan["add_partitions"], [])

    def test_command_arguments(self):
        configs = {"retention.ms": "1", "cleanup.policy": "compact,delete"}
        self.assertEqual(kafka.kafka_config_arguments(configs), "cleanup.policy=[compact,delete],retention.ms=1")
        self.assertEqual(
            kafka.kafka_config_options(configs),
            ["--config", "cleanup.policy=compact,delete", "--config", "retention.ms=1"],
        )


class Acls(unittest.TestCase):
    def test_list_parsed(self):
        acls = kafka.kafka_acls_listed(ACLS)
        self.assertEqual(len(acls), 5)
        self.assertEqual(acls[0], {
            "resource_type": "group", "resource_name": "mhfz-consumer", "pattern_type": "literal",
            "principal": "User:mhfz-consumer", "host": "*", "operation": "READ", "permission": "ALLOW",
        })
        self.assertEqual(
            (acls[4]["resource_type"], acls[4]["pattern_type"], acls[4]["operation"], acls[4]["host"]),
            ("transactional-id", "prefixed", "IDEMPOTENT_WRITE", "10.0.0.1"),
        )

    def test_plan_adds_the_missing_and_removes_every_other(self):
        plan = kafka.kafka_acl_plan(PIPELINE_ACLS, kafka.kafka_acls_listed(ACLS))
        self.assertEqual(
            [(e["principal"], e["resource_name"], e["operations"]) for e in plan["add"]],
            [("User:mhfz-scraper", "weapon_data", ["DESCRIBE"])],
        )
        self.assertEqual(
            [(e["principal"], e["permission"], e["resource_name"], e["operations"]) for e in plan["remove"]],
            [("User:intruder", "ALLOW", "weapon_data", ["ALL"]), ("User:mhfz-scraper", "DENY", "tx-", ["IDEMPOTENT_WRITE"])],
        )

    def test_nothing_to_do_when_as_wanted(self):
        current = [a for a in kafka.kafka_acls_listed(ACLS) if a["principal"] != "User:intruder" and a["permission"] == "ALLOW"]
        wanted = [dict(a, operations=["Write"]) if a["principal"] == "mhfz-scraper" else a for a in PIPELINE_ACLS]
        self.assertEqual(kafka.kafka_acl_plan(wanted, current), {"add": [], "remove": []})

    def test_operations_compare_as_kafka_names_them(self):
        wanted = [{"principal": "p", "resource_type": "cluster", "resource_name": "", "operations": ["IdempotentWrite"]}]
        current = [{"principal": "User:p", "host": "*", "permission": "ALLOW", "resource_type": "cluster",
                    "resource_name": "kafka-cluster", "pattern_type": "literal", "operation": "IDEMPOTENT_WRITE"}]
        self.assertEqual(kafka.kafka_acl_plan(wanted, current), {"add": [], "remove": []})

    def test_unknown_resource_type_is_an_error(self):
        with self.assertRaises(Exception):
            kafka.kafka_acl_plan([{"principal": "x", "resource_type": "table", "resource_name": "t", "operations": ["Read"]}], [])

    def test_command_arguments(self):
        plan = kafka.kafka_acl_plan(PIPELINE_ACLS, [])
        self.assertEqual(
            kafka.kafka_acl_arguments(plan["add"][-1]),
            ["--allow-principal", "User:mhfz-scraper", "--allow-host", "*", "--operation", "Describe",
             "--operation", "Write", "--topic", "weapon_data", "--resource-pattern-type", "literal"],
        )
        deny = kafka.kafka_acl_plan([], kafka.kafka_acls_listed(ACLS))["remove"][-1]
        self.assertEqual(
            kafka.kafka_acl_arguments(deny)[:6],
            ["--deny-principal", "User:mhfz-scraper", "--deny-host", "10.0.0.1", "--operation", "IdempotentWrite"],
        )


if __name__ == "__main__":
    unittest.main()
