"""The roles' own configuration, rendered for the stack by Ansible's own templating.

A Role is what a play applying that role sees on one host of a one-host in-memory inventory
(`localhost`, ansible_host 127.0.0.1, in the groups the role needs): the role's defaults and vars
under the host's variables, which hold only the stack's overrides (loopback addresses, ports,
paths; each service module lists its own). The role's `set_fact` tasks of the task files named
are evaluated in order (e.g. kafka's identity.yml: node id, quorum), then every `template` task
and `copy` task with `content` of a task file whose destination lies in the stack's
configuration directory is rendered there, as the role's configure step would write it. Tasks
writing anywhere else (systemd units, /usr/local/bin) are not rendered; their commands are read
with unit_command().

Ansible is imported on first use, with its configuration the project's (ansible/ansible.cfg)
and its scratch files under the state dir.
"""

import os
import shlex
from pathlib import Path

import yaml

from .errors import StackError

HOST = "localhost"
_ansible = None


def role_defaults(repo, role):
    """A role's defaults/main.yml, untemplated (for its literal values)."""
    return yaml.safe_load((repo / "roles" / role / "defaults/main.yml").read_text())


def ansible_environment(repo, scratch):
    """The stack's Ansible settings: the project's configuration, scratch files under the state
    dir, no warnings about the one-host inventory (for this process and for ansible-playbook)."""
    return {
        "ANSIBLE_CONFIG": str(Path(repo) / "ansible" / "ansible.cfg"),
        "ANSIBLE_HOME": str(scratch),
        "ANSIBLE_LOCAL_TEMP": str(Path(scratch) / "tmp"),
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_LOCALHOST_WARNING": "false",
    }


def _import_ansible(repo, scratch):
    """Ansible's modules, imported once, after pointing its configuration and scratch dirs."""
    global _ansible
    if _ansible is None:
        scratch.mkdir(parents=True, exist_ok=True)
        os.environ.update(ansible_environment(repo, scratch))
        try:
            from ansible._internal._templating import _template_vars
            from ansible.inventory.manager import InventoryManager
            from ansible.parsing.dataloader import DataLoader
            from ansible.playbook.play import Play
            from ansible.plugins.loader import init_plugin_loader
            from ansible.template import Templar, trust_as_template
            from ansible.vars.hostvars import HostVars
            from ansible.vars.manager import VariableManager
        except ImportError as error:
            raise StackError(
                f"ansible-core is needed to render the roles' configuration ({error}): "
                'run with PATH="$(scripts/python-env):$PATH"'
            ) from None
        init_plugin_loader()
        _ansible = {
            "DataLoader": DataLoader, "InventoryManager": InventoryManager, "Play": Play,
            "Templar": Templar, "trust_as_template": trust_as_template, "HostVars": HostVars,
            "VariableManager": VariableManager, "template_vars": _template_vars,
        }
    return _ansible


class Role:
    def __init__(self, repo, scratch, role, groups, host_vars, fact_files=()):
        a = _import_ansible(Path(repo), Path(scratch))
        self._a = a
        self.repo = Path(repo)
        self.role_dir = self.repo / "roles" / role
        self.loader = a["DataLoader"]()
        self.loader.set_basedir(str(self.repo))
        self.inventory = a["InventoryManager"](loader=self.loader, sources=[])
        # `all` too: a host added to groups only is not in groups['all'] until then.
        for group in ["all", *groups]:
            self.inventory.add_group(group)
            self.inventory.add_host(HOST, group=group)
        self.host = self.inventory.get_host(HOST)
        for name, value in {"ansible_host": "127.0.0.1", **host_vars}.items():
            self.host.set_variable(name, value)
        self.manager = a["VariableManager"](loader=self.loader, inventory=self.inventory)
        a["HostVars"](inventory=self.inventory, variable_manager=self.manager, loader=self.loader)
        self.play = a["Play"].load(
            {"hosts": HOST, "gather_facts": False, "roles": [{"role": role}]},
            variable_manager=self.manager, loader=self.loader,
        )
        self._refresh()
        for task_file in fact_files:
            self._set_facts(task_file)

    def _refresh(self):
        self.variables = self.manager.get_vars(play=self.play, host=self.host, include_hostvars=True)
        self.templar = self._a["Templar"](loader=self.loader, variables=self.variables)

    def _tasks(self, task_file):
        return self.loader.load_from_file(str(self.role_dir / "tasks" / task_file)) or []

    def _set_facts(self, task_file):
        for task in self._tasks(task_file):
            args = task.get("ansible.builtin.set_fact", task.get("set_fact"))
            if args is None or not self._when(task):
                continue
            facts = {name: self.templar.template(value) for name, value in args.items()}
            self.manager.set_nonpersistent_facts(HOST, facts)
            self._refresh()

    def _when(self, task, extra=None, key="when", default=()):
        conditions = task.get(key, [self._a["trust_as_template"](condition) for condition in default])
        if not isinstance(conditions, list):
            conditions = [conditions]
        templar = self.templar.copy_with_new_env(available_variables={**self.variables, **(extra or {})})
        return all(templar.evaluate_conditional(condition) for condition in conditions)

    def var(self, name, **extra):
        """The variable's value, templated (extra: loop variables such as item)."""
        if name not in self.variables:
            raise StackError(f"role {self.role_dir.name} has no variable {name}")
        templar = self.templar.copy_with_new_env(available_variables={**self.variables, **extra})
        return templar.template(self.variables[name])

    def render_template(self, src, dest="", **extra):
        """A template of the role (templates/src) rendered as the template module renders it."""
        path = self.role_dir / "templates" / src
        data = self._a["trust_as_template"](self.loader.get_text_file_contents(str(path)))
        variables = {**self.variables, **extra}
        variables.update(self._a["template_vars"].generate_ansible_template_vars(
            path=src, fullpath=str(path), dest_path=dest, include_ansible_managed="ansible_managed" not in variables,
        ))
        templar = self.templar.copy_with_new_env(
            searchpath=[str(path.parent), str(self.role_dir)], available_variables=variables
        )
        text = templar.template(
            data, escape_backslashes=False,
            overrides={"trim_blocks": True, "lstrip_blocks": False, "newline_sequence": "\n"},
        )
        return text or ""

    def render_config(self, task_file, config_dir, **given):
        """Writes what the template and copy-with-content tasks of task_file put into config_dir
        (nothing else); returns {file name: path}. given: variables set over the role's."""
        config_dir = Path(config_dir)
        config_dir.mkdir(parents=True, exist_ok=True)
        written = {}
        for task in self._tasks(task_file):
            module = next((m for m in ("ansible.builtin.template", "ansible.builtin.copy") if m in task), None)
            if module is None:
                continue
            args = task[module]
            if module.endswith("copy") and "content" not in args:
                continue
            loop = self.templar.template(task["loop"]) if "loop" in task else [None]
            for item in loop:
                extra = dict(given) if item is None else {**given, "item": item}
                task_vars = {k: self._template(v, extra) for k, v in (task.get("vars") or {}).items()}
                extra.update(task_vars)
                dest = Path(self._template(args["dest"], extra))
                if dest.parent != config_dir or not self._when(task, extra):
                    continue
                if module.endswith("template"):
                    text = self.render_template(self._template(args["src"], extra), str(dest), **extra)
                else:
                    text = self._template(args["content"], extra)
                tmp = dest.with_name(dest.name + ".tmp")
                tmp.write_text(text)
                # Modes as the role sets them (hive-site.xml, with a password, is 0640).
                tmp.chmod(int(str(args.get("mode", "0644")), 8))
                tmp.replace(dest)
                written[dest.name] = dest
        return written

    def _template(self, value, extra):
        templar = self.templar.copy_with_new_env(available_variables={**self.variables, **extra})
        return templar.template(value)

    def task_command(self, task_file, name):
        """(environment, argv) of the role's command task of that name (e.g. a format or schema command)."""
        for task in self._tasks(task_file):
            if task.get("name") == name:
                argv = [str(word) for word in self._template(task["ansible.builtin.command"]["argv"], {})]
                env = {k: str(v) for k, v in self._template(task.get("environment") or {}, {}).items()}
                return env, argv
        raise StackError(f"role {self.role_dir.name} has no task {name!r} in {task_file}")

    def task_argv(self, task_file, name):
        return self.task_command(task_file, name)[1]

    def run_commands(self, task_file, run):
        """Runs the command tasks of task_file in order, as the play would: each one's `when`, and
        its `failed_when` (default: a non-zero status), evaluated by Ansible over what the tasks
        before it registered. run(environment, argv) runs one, returning (status, stdout, stderr).
        Returns the names of the tasks run; a failed one raises StackError with its output."""
        registered, ran = {}, []
        for task in self._tasks(task_file):
            if "ansible.builtin.command" not in task or not self._when(task, registered):
                continue
            env, argv = self.task_command(task_file, task["name"])
            status, stdout, stderr = run(env, argv)
            result = {"rc": status, "stdout": stdout, "stderr": stderr}
            registered[task.get("register", "_result")] = result
            if self._when(task, {**registered, "_result": result}, "failed_when", ["_result.rc != 0"]):
                raise StackError(f"{task['name']} (role {self.role_dir.name}, {task_file}) failed:\n{stdout}{stderr}")
            ran.append(task["name"])
        return ran

    def module_calls(self, task_file):
        """(module, arguments) of every task of task_file, once per item of its loop, templated as
        the play would run them (tasks whose `when` is false left out)."""
        calls = []
        for task in self._tasks(task_file):
            module = next((key for key in task if key.count(".") == 2), None)  # e.g. ansible.builtin.command
            if module is None:
                raise StackError(f"a task of {task_file} of role {self.role_dir.name} names no module by its FQCN")
            for item in self.templar.template(task["loop"]) if "loop" in task else [None]:
                extra = {} if item is None else {"item": item}
                if self._when(task, extra):
                    calls.append((module, self._template(task[module], extra)))
        return calls

    def unit_command(self, src, credentials=None, **extra):
        """(environment, argv) of a systemd unit template's (or drop-in's) ExecStart and Environment
        lines. A unit loading credentials (LoadCredential=ID:PATH) gets what systemd gives it: a
        private copy of each PATH as credentials/ID (a directory the caller names), named by %d
        and $CREDENTIALS_DIRECTORY."""
        text = self.render_template(src, **extra)
        environment, lines, command, loaded = {}, text.replace("\\\n", " ").splitlines(), None, {}
        for line in lines:
            if line.startswith("Environment="):
                name, _, value = line[len("Environment="):].partition("=")
                environment[name] = value
            elif line.startswith("ExecStart="):
                command = shlex.split(line[len("ExecStart="):])
            elif line.startswith("LoadCredential="):
                name, _, path = line[len("LoadCredential="):].partition(":")
                loaded[name] = path
        if command is None:
            raise StackError(f"{src} of role {self.role_dir.name} has no ExecStart")
        if loaded:
            if credentials is None:
                raise StackError(f"{src} of role {self.role_dir.name} loads credentials: name their directory")
            credentials = Path(credentials)
            credentials.mkdir(mode=0o700, parents=True, exist_ok=True)
            for name, path in loaded.items():
                copy = credentials / name
                copy.unlink(missing_ok=True)
                copy.touch(0o600)
                copy.write_bytes(Path(path).read_bytes())
            expand = lambda value: value.replace("%d", str(credentials))  # noqa: E731
            environment = {name: expand(value) for name, value in environment.items()}
            environment["CREDENTIALS_DIRECTORY"] = str(credentials)
            command = [expand(word) for word in command]
        return environment, command


def parse_env_file(text):
    """NAME=value lines of an environment file (shell syntax, as the roles write them)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            words = shlex.split(value)
            env[name] = words[0] if words else ""
    return env
