"""Filters of the kafka role: the cluster id derived from a name, and topic reconciliation."""

import base64
import re
import uuid

from ansible.errors import AnsibleFilterError

# The namespace of name-based cluster ids: a fixed UUID, so a name always gives the same id.
_CLUSTER_ID_NAMESPACE = uuid.UUID("6f1c2b2e-8a43-4d1e-9f0a-3b6c1d5e7a90")
_CLUSTER_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{21}$")
_TOPIC_LINE = re.compile(
    r"^Topic: (?P<name>\S+)\tTopicId: \S+\tPartitionCount: (?P<partitions>\d+)"
    r"\tReplicationFactor: (?P<replication_factor>\d+)\tConfigs: ?(?P<configs>.*)$"
)


def _encode(value):
    return base64.urlsafe_b64encode(value.bytes).decode("ascii").rstrip("=")


def kafka_cluster_id(name):
    """A Kafka cluster id (16 bytes, base64url without padding, 22 characters) from a name.

    Kafka's own random ids never start with '-' (a command line would take it for an option), are
    never all zeros and never the metadata topic's id (1): skip those as it does, deterministically.
    """
    if not isinstance(name, str) or not name:
        raise AnsibleFilterError("kafka_cluster_id: the cluster name must be a non-empty string")
    attempt = 0
    while True:
        seed = name if attempt == 0 else f"{name}#{attempt}"
        candidate = uuid.uuid5(_CLUSTER_ID_NAMESPACE, seed)
        encoded = _encode(candidate)
        if candidate.int > 1 and not encoded.startswith("-"):
            return encoded
        attempt += 1


def kafka_valid_cluster_id(value):
    """True when value is a usable Kafka cluster id (22 base64url characters, not starting with '-')."""
    if not isinstance(value, str) or not _CLUSTER_ID.match(value):
        return False
    decoded = int.from_bytes(base64.urlsafe_b64decode(value + "=="), "big")
    return decoded > 1


def _config_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_config_value(v) for v in value)
    return str(value)


def _parse_configs(text):
    """`a=1,b=x,y,c=2` (TopicCommand's Configs column) as a dict; a comma inside a list value
    starts no new entry, since every entry has a `=`."""
    configs = {}
    key = None
    for part in text.split(","):
        if "=" in part:
            key, _, value = part.partition("=")
            configs[key] = value
        elif key is not None and part:
            configs[key] += "," + part
    return configs


def kafka_topics_described(output):
    """The topics of `TopicCommand --describe` output: {name: {partitions, replication_factor, configs}}."""
    topics = {}
    for line in output.splitlines():
        match = _TOPIC_LINE.match(line)
        if match:
            topics[match["name"]] = {
                "partitions": int(match["partitions"]),
                "replication_factor": int(match["replication_factor"]),
                "configs": _parse_configs(match["configs"]),
            }
    return topics


def kafka_topic_plan(wanted, current):
    """What to do so that the `wanted` topics (the role's kafka_topics) exist as given, from the
    `current` ones (kafka_topics_described): {create, add_partitions, alter_configs, problems}.

    Partitions only grow and an existing topic's replication factor is never changed (both would
    need a reassignment): asking for either is a problem, reported, never attempted.
    """
    plan = {"create": [], "add_partitions": [], "alter_configs": [], "problems": []}
    for topic in wanted:
        name = topic["name"]
        partitions = int(topic["partitions"])
        replication_factor = int(topic["replication_factor"])
        configs = {k: _config_value(v) for k, v in (topic.get("configs") or {}).items()}
        entry = {
            "name": name,
            "partitions": partitions,
            "replication_factor": replication_factor,
            "configs": configs,
        }
        existing = current.get(name)
        if existing is None:
            plan["create"].append(entry)
            continue
        if partitions < existing["partitions"]:
            plan["problems"].append(
                f"topic {name} has {existing['partitions']} partitions, more than the {partitions} asked: "
                "partitions cannot be removed"
            )
        elif partitions > existing["partitions"]:
            plan["add_partitions"].append(entry)
        if replication_factor != existing["replication_factor"]:
            plan["problems"].append(
                f"topic {name} has replication factor {existing['replication_factor']}, not the "
                f"{replication_factor} asked: change it with a partition reassignment"
            )
        differing = {k: v for k, v in configs.items() if existing["configs"].get(k) != v}
        if differing:
            plan["alter_configs"].append(dict(entry, configs=differing))
    return plan


def kafka_config_arguments(configs):
    """`--add-config` value for ConfigCommand: k=v pairs, list values in brackets."""
    return ",".join(f"{k}=[{v}]" if "," in v else f"{k}={v}" for k, v in sorted(configs.items()))


def kafka_config_options(configs):
    """`--config k=v` options for TopicCommand --create, in name order."""
    return [arg for k, v in sorted(configs.items()) for arg in ("--config", f"{k}={v}")]


class FilterModule:
    def filters(self):
        return {
            "kafka_cluster_id": kafka_cluster_id,
            "kafka_valid_cluster_id": kafka_valid_cluster_id,
            "kafka_topics_described": kafka_topics_described,
            "kafka_topic_plan": kafka_topic_plan,
            "kafka_config_arguments": kafka_config_arguments,
            "kafka_config_options": kafka_config_options,
        }
