"""Filters of the kafka role: the cluster id derived from a name, topic and ACL reconciliation."""

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


_ACL_RESOURCE = re.compile(
    r"^Current ACLs for resource `ResourcePattern\(resourceType=(?P<type>\w+), name=(?P<name>.*), "
    r"patternType=(?P<pattern>\w+)\)`:"
)
_ACL_ENTRY = re.compile(
    r"^\s*\(principal=(?P<principal>[^,]+), host=(?P<host>[^,]+), operation=(?P<operation>\w+), "
    r"permissionType=(?P<permission>\w+)\)"
)
# AclCommand's option naming each resource type.
_ACL_RESOURCE_OPTIONS = {
    "topic": "--topic", "group": "--group", "cluster": "--cluster", "transactional-id": "--transactional-id",
}


def _operation(name):
    """As AclCommand prints it: Write and WRITE are WRITE, IdempotentWrite is IDEMPOTENT_WRITE."""
    if name.isupper():
        return name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def _resource_type(name):
    """AclCommand prints TOPIC, TRANSACTIONAL_ID; the role's spelling is topic, transactional-id."""
    return name.lower().replace("_", "-")


def kafka_acls_listed(output):
    """The ACLs of `AclCommand --list` output, one dict per principal, resource and operation."""
    acls = []
    resource = None
    for line in output.splitlines():
        match = _ACL_RESOURCE.match(line)
        if match:
            resource = {
                "resource_type": _resource_type(match["type"]),
                "resource_name": match["name"],
                "pattern_type": match["pattern"].lower(),
            }
            continue
        match = _ACL_ENTRY.match(line)
        if match and resource is not None:
            acls.append(dict(
                resource, principal=match["principal"], host=match["host"],
                operation=_operation(match["operation"]), permission=match["permission"].upper(),
            ))
    return acls


def _acl_key(acl):
    return (acl["principal"], acl["host"], acl["permission"], acl["resource_type"], acl["resource_name"],
            acl["pattern_type"])


def _grouped(acls):
    """Entries of one principal, host, permission and resource, with their operations."""
    groups = {}
    for acl in acls:
        groups.setdefault(_acl_key(acl), set()).add(acl["operation"])
    return [
        {"principal": principal, "host": host, "permission": permission, "resource_type": resource_type,
         "resource_name": name, "pattern_type": pattern, "operations": sorted(operations)}
        for (principal, host, permission, resource_type, name, pattern), operations in sorted(groups.items())
    ]


def kafka_acl_plan(wanted, current):
    """What to add and remove so that the cluster's ACLs are exactly the `wanted` ones (the role's
    kafka_acls: ALLOW from any host) given the `current` ones (kafka_acls_listed): {add, remove},
    each a list of entries with their operations (one AclCommand each)."""
    wanted_acls = []
    for acl in wanted:
        resource_type = acl["resource_type"]
        if resource_type not in _ACL_RESOURCE_OPTIONS:
            raise AnsibleFilterError(f"kafka_acls: unknown resource_type {resource_type!r}")
        for operation in acl["operations"]:
            wanted_acls.append({
                "principal": "User:" + acl["principal"], "host": "*", "permission": "ALLOW",
                "resource_type": resource_type,
                # The cluster resource has one name, whatever the entry says.
                "resource_name": "kafka-cluster" if resource_type == "cluster" else acl["resource_name"],
                "pattern_type": acl.get("pattern_type") or "literal", "operation": _operation(operation),
            })
    wanted_keys = {(*_acl_key(a), a["operation"]) for a in wanted_acls}
    current_keys = {(*_acl_key(a), a["operation"]) for a in current}
    return {
        "add": _grouped(a for a in wanted_acls if (*_acl_key(a), a["operation"]) not in current_keys),
        "remove": _grouped(a for a in current if (*_acl_key(a), a["operation"]) not in wanted_keys),
    }


def kafka_acl_arguments(entry):
    """AclCommand options naming one entry of kafka_acl_plan (after --add or --remove)."""
    allow = entry["permission"] == "ALLOW"
    arguments = [
        "--allow-principal" if allow else "--deny-principal", entry["principal"],
        "--allow-host" if allow else "--deny-host", entry["host"],
    ]
    for operation in entry["operations"]:
        # AclCommand reads IdempotentWrite, not IDEMPOTENT_WRITE.
        arguments += ["--operation", "".join(word.capitalize() for word in operation.split("_"))]
    arguments.append(_ACL_RESOURCE_OPTIONS[entry["resource_type"]])
    if entry["resource_type"] != "cluster":
        arguments.append(entry["resource_name"])
    return arguments + ["--resource-pattern-type", entry["pattern_type"]]


class FilterModule:
    def filters(self):
        return {
            "kafka_cluster_id": kafka_cluster_id,
            "kafka_valid_cluster_id": kafka_valid_cluster_id,
            "kafka_topics_described": kafka_topics_described,
            "kafka_topic_plan": kafka_topic_plan,
            "kafka_config_arguments": kafka_config_arguments,
            "kafka_config_options": kafka_config_options,
            "kafka_acls_listed": kafka_acls_listed,
            "kafka_acl_plan": kafka_acl_plan,
            "kafka_acl_arguments": kafka_acl_arguments,
        }
