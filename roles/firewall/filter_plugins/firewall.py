"""Filters of the firewall role: the table of flows (defaults/main.yml, firewall_flows) turned into
the rules of one host.

A flow opens `ports` on the hosts of the groups `to` (a group or a list; `all`: every host) to the
hosts of the groups `from`, where `admin` stands for the admin networks and `any` for every address. A port is named, never copied: `ROLE:VARIABLE`, the variable that sets it
in the role that runs the service (`kafka:kafka_broker_port`), read from the host's variables
(inventory, group_vars) and otherwise from that role's defaults/main.yml. Its value may be a port,
an address `HOST:PORT` (a loopback host: nothing to open) or a mapping of ports (one per daemon).
`enabled: ROLE:VARIABLE` opens the flow only where that variable is true; `all_ports: true` opens
every port (for services that talk on ports they choose, e.g. Hadoop's MapReduce tasks).
"""

import ipaddress
from pathlib import Path

import yaml
from ansible.errors import AnsibleFilterError

ANY = "any"
ADMIN = "admin"


class RoleDefaults:
    """The defaults/main.yml of the roles in `roles_dir`, read once each."""

    def __init__(self, roles_dir):
        self.roles_dir = Path(roles_dir)
        self.loaded = {}

    def get(self, role, variable):
        if role not in self.loaded:
            path = self.roles_dir / role / "defaults" / "main.yml"
            try:
                self.loaded[role] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except OSError as error:
                raise AnsibleFilterError(f"firewall: no defaults for role {role} ({path}): {error}")
        if variable not in self.loaded[role]:
            raise AnsibleFilterError(f"firewall: role {role} has no default {variable}")
        return self.loaded[role][variable]


def _reference(text, flow):
    role, sep, variable = str(text).partition(":")
    if not sep or not role or not variable:
        raise AnsibleFilterError(f"firewall: flow {flow!r}: {text!r} is not ROLE:VARIABLE")
    return role, variable


def _value(reference, flow, host_vars, defaults):
    role, variable = _reference(reference, flow)
    if variable in host_vars:
        return host_vars[variable]
    return defaults.get(role, variable)


def _ports(value, reference, flow):
    """The ports a variable's value names (none for a loopback address)."""
    if isinstance(value, dict):
        return sorted({port for item in value.values() for port in _ports(item, reference, flow)})
    text = str(value).strip()
    host, sep, port = text.rpartition(":")
    if sep:
        host = host.strip("[]")
        if host in ("localhost",) or (host and _is_loopback(host)):
            return []
    else:
        port = text
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise AnsibleFilterError(f"firewall: flow {flow!r}: {reference} = {value!r} names no port")
    return [int(port)]


def _is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def firewall_address(host_vars, host):
    """The address the other hosts reach `host` at: firewall_address, else ansible_host when it is
    an IPv4 address, else the address of its default route (facts)."""
    if host_vars.get("firewall_address"):
        return str(host_vars["firewall_address"])
    candidate = str(host_vars.get("ansible_host", ""))
    try:
        if ipaddress.ip_address(candidate).version == 4:
            return candidate
    except ValueError:
        pass
    facts = host_vars.get("ansible_facts", {}) or {}
    address = (facts.get("default_ipv4") or {}).get("address") or \
        (host_vars.get("ansible_default_ipv4") or {}).get("address")
    if not address:
        raise AnsibleFilterError(
            f"firewall: no address for {host}: set firewall_address, an IPv4 ansible_host, or gather its facts")
    return str(address)


def firewall_rules(flows, host, hostvars, groups, roles_dir, admin_networks=()):
    """The rules of `host`: for every flow whose `to` group holds it, the ports it opens (None:
    every port) and its sources, `{"ip": [...], "ip6": [...]}` (None: any address), in the flows'
    order; flows that open nothing are left out."""
    defaults = RoleDefaults(roles_dir)
    host_vars = hostvars[host]
    rules = []
    for flow in flows:
        name = flow.get("name", "?")
        targets = flow.get("to")
        targets = [targets] if isinstance(targets, str) else list(targets or [])
        if "all" not in targets and not any(host in groups.get(target, []) for target in targets):
            continue
        enabled = flow.get("enabled")
        if enabled is not None and not _truthy(_value(enabled, name, host_vars, defaults)):
            continue
        if flow.get("all_ports"):
            ports = None
        else:
            ports = sorted({port for reference in flow.get("ports", [])
                            for port in _ports(_value(reference, name, host_vars, defaults), reference, name)})
            if not ports:
                continue
        sources = flow.get("from", [])
        if ANY in sources:
            addresses = None
        else:
            members = sorted({member for group in sources for member in groups.get(group, [])})
            found = {firewall_address(hostvars[member], member) for member in members if member != host}
            if ADMIN in sources:
                found.update(firewall_networks(admin_networks, "firewall_admin_networks"))
            if not found:
                continue
            networks = sorted((ipaddress.ip_network(a, strict=False) for a in found),
                              key=lambda n: (n.version, n))
            addresses = {
                "ip": [_nft_address(n) for n in networks if n.version == 4],
                "ip6": [_nft_address(n) for n in networks if n.version == 6],
            }
        rules.append({"name": name, "ports": ports, "sources": addresses})
    return rules


def _nft_address(network):
    """A host as its address, a network as its prefix."""
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def firewall_networks(networks, what):
    """Checks a list of CIDR networks (SSH and admin sources); returns them normalised."""
    checked = []
    for network in networks or []:
        try:
            checked.append(str(ipaddress.ip_network(str(network), strict=False)))
        except ValueError as error:
            raise AnsibleFilterError(f"firewall: {what}: {network!r} is not a network ({error})")
    return checked


class FilterModule:
    def filters(self):
        return {
            "firewall_rules": firewall_rules,
            "firewall_networks": firewall_networks,
        }
