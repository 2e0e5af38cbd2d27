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


if __name__ == "__main__":
    unittest.main()
