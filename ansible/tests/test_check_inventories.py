#!/usr/bin/env python3
"""Tests of ansible/tests/check-inventories: broken copies of the shipped inventories must fail,
naming the host and the group to add it to; the check writes nothing outside its temporary
directory; every role's preflight.yml runs under --tags preflight.

    python3 ansible/tests/test_check_inventories.py     (ansible-playbook on PATH)
"""

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "ansible" / "tests" / "check-inventories"


def run_check(*inventories, env=None):
    return subprocess.run([str(CHECK), *map(str, inventories)], capture_output=True, text=True,
                          check=False, env=env)


def groups_of(tree):
    """Every group of a YAML inventory's `all`, by name (children included)."""
    found = {}
    for name, group in (tree.get("children") or {}).items():
        group = group or {}
        found[name] = group
        found.update(groups_of(group))
    return found


class BrokenInventory:
    """A copy of a shipped inventory in a temporary directory, with one host out of one group."""

    def __init__(self, name, group, host):
        self.name, self.group, self.host = name, group, host

    def __enter__(self):
        self.scratch = tempfile.TemporaryDirectory(prefix="broken-inventory.")
        inventory = Path(self.scratch.name) / self.name
        shutil.copytree(REPO / "inventory" / self.name, inventory)
        hosts_file = inventory / "hosts.yml"
        tree = yaml.safe_load(hosts_file.read_text(encoding="utf-8"))
        members = groups_of(tree["all"])[self.group]["hosts"]
        if self.host not in members:
            raise AssertionError(f"{self.host} is not in {self.group} of inventory/{self.name}")
        del members[self.host]
        hosts_file.write_text(yaml.safe_dump(tree), encoding="utf-8")
        return inventory

    def __exit__(self, *exc):
        self.scratch.cleanup()


class BrokenInventories(unittest.TestCase):
    def assert_fails_naming(self, name, group, host):
        with BrokenInventory(name, group, host) as inventory:
            result = run_check(inventory)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        lines = [line for line in result.stderr.splitlines() if f": {host}: " in line]
        self.assertTrue(any(group in line for line in lines),
                        f"no line names {host} and {group}:\n{result.stderr}")

    def test_hive_server_out_of_hadoop_client(self):
        self.assert_fails_naming("example", "hadoop_client", "hive-1")

    def test_pipeline_out_of_hive_client(self):
        self.assert_fails_naming("vagrant", "hive_client", "pipeline-1")

    def test_pipeline_out_of_hadoop_client(self):
        self.assert_fails_naming("example", "hadoop_client", "pipeline-1")

    def test_no_namenode(self):
        self.assert_fails_naming("vagrant", "hadoop_namenode", "hadoop-master")


def edited_copy(scratch, name, path, edit):
    """inventory/NAME copied into scratch, the YAML file PATH inside it passed through edit."""
    inventory = Path(scratch) / name
    shutil.copytree(REPO / "inventory" / name, inventory)
    target = inventory / path
    target.write_text(yaml.safe_dump(edit(yaml.safe_load(target.read_text(encoding="utf-8")))), encoding="utf-8")
    return inventory


class InsecureSettings(unittest.TestCase):
    def test_a_remote_entry_without_tls_is_named(self):
        def plain_host(group_vars):
            group_vars["postgresql_hba_entries"][1]["type"] = "host"
            return group_vars
        with tempfile.TemporaryDirectory(prefix="broken-inventory.") as scratch:
            result = run_check(edited_copy(scratch, "example", "group_vars/postgresql.yml", plain_host))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(": db-1: ", result.stderr)
        self.assertIn("admit 10.20.0.51/32 without TLS", result.stderr)

    def test_a_ca_directory_in_the_repository_is_refused(self):
        def in_repo(group_vars):
            group_vars["pki_dir"] = str(REPO / "pki")
            return group_vars
        with tempfile.TemporaryDirectory(prefix="broken-inventory.") as scratch:
            result = run_check(edited_copy(scratch, "vagrant", "group_vars/all/main.yml", in_repo))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("a controller directory outside the repository", result.stderr)
        self.assertFalse((REPO / "pki").exists(), "the check made a CA directory")

    def test_an_unusable_kafka_password_is_named(self):
        def with_comma(group_vars):
            group_vars["kafka_admin_password"] = "a-long-password,with-a-comma"
            return group_vars
        with tempfile.TemporaryDirectory(prefix="broken-inventory.") as scratch:
            result = run_check(edited_copy(scratch, "vagrant", "group_vars/kafka.yml", with_comma))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(": kafka-1: ", result.stderr)
        self.assertIn("no password may hold quotes, backslashes, commas", result.stderr)
        self.assertNotIn("with-a-comma", result.stdout + result.stderr)


class UnaddressedHost(unittest.TestCase):
    def test_a_host_the_firewall_cannot_address_is_named(self):
        """A source host whose ansible_host is a name (no facts at check time) leaves its peers'
        rules unknown: the firewall's preflight names it."""
        with tempfile.TemporaryDirectory(prefix="broken-inventory.") as scratch:
            inventory = Path(scratch) / "vagrant"
            shutil.copytree(REPO / "inventory" / "vagrant", inventory)
            hosts_file = inventory / "hosts.yml"
            tree = yaml.safe_load(hosts_file.read_text(encoding="utf-8"))
            tree["all"]["hosts"]["pipeline-1"] = {"ansible_host": "pipeline-1.example"}
            hosts_file.write_text(yaml.safe_dump(tree), encoding="utf-8")
            result = run_check(inventory)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(": db-1: ", result.stderr)
        self.assertIn("no address for pipeline-1: set firewall_address", result.stderr)


class ShippedInventories(unittest.TestCase):
    def test_pass_and_write_nothing(self):
        """The Vagrant inventory's password lookups write into the check's own temporary directory."""
        with tempfile.TemporaryDirectory(prefix="check-home.") as home:
            before = self.repository_status()
            result = run_check(REPO / "inventory" / "example", REPO / "inventory" / "vagrant",
                               env=dict(os.environ, HOME=home, MHFZ_CACHE_DIR=f"{home}/cache"))
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(self.repository_status(), before)
            written = [path for path in Path(home).rglob("*") if "vagrant-credentials" in str(path)]
            self.assertEqual(written, [])

    @staticmethod
    def repository_status():
        return subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=all"],
                              capture_output=True, text=True, check=True).stdout


def load_check():
    loader = importlib.machinery.SourceFileLoader("check_inventories", str(CHECK))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


class Report(unittest.TestCase):
    """How the check reads ansible's json report."""

    check = load_check()

    def test_only_argument_specs_ran_is_no_check(self):
        report = {"plays": [{"tasks": [
            {"task": {"name": "Validating arguments against arg spec main - x"}, "hosts": {"h": {}}}]}]}
        self.assertEqual(self.check.preconditions_run(report), 0)

    def test_failures_are_named_by_host(self):
        report = {"plays": [{"tasks": [
            {"task": {"name": "t"}, "hosts": {"b": {"failed": True, "msg": "b is\n in no group"},
                                            "a": {"changed": False}}}]}]}
        self.assertEqual(list(self.check.failures_of(report)), [("b", "b is in no group")])
        self.assertEqual(self.check.preconditions_run(report), 2)


class PreflightTags(unittest.TestCase):
    def test_every_preflight_runs_under_its_tag(self):
        """check-inventories runs what roles import with the tag preflight: none may be left out."""
        for preflight in sorted(REPO.glob("roles/*/tasks/preflight.yml")):
            main = yaml.safe_load((preflight.parent / "main.yml").read_text(encoding="utf-8"))
            imports = [task for task in main
                       if task.get("ansible.builtin.import_tasks") == "preflight.yml"]
            with self.subTest(role=preflight.parents[1].name):
                self.assertEqual(len(imports), 1, "tasks/main.yml imports preflight.yml once")
                self.assertIn("preflight", imports[0].get("tags", []))
                self.assertIs(main[0], imports[0], "the preconditions come first")


if __name__ == "__main__":
    unittest.main()
