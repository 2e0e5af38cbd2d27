"""A role's own tasks run on the stack's host by ansible-playbook (localhost, local connection):
for what the stack does as a deployment does it, with tasks that act rather than render (the pki
role's certificates, the kafka role's users and ACLs). Variables go in a 0600 file of extra
variables, never on a command line; the inventory puts localhost in the groups the role needs."""

import json
import sys
from pathlib import Path
import subprocess

import yaml

from . import procs, render
from .errors import StackError


def run_role_tasks(stack, name, role, tasks_from, variables, groups=(), play_vars=None, each=None):
    """Runs roles/ROLE/tasks/TASKS_FROM.yml once, or once per item of `each` (dicts of variables
    for that run); raises StackError with the output on failure. name: what the run is for (file
    names, messages); play_vars: the play's own vars (templates kept), under the extra variables."""
    scratch = stack.state / "ansible"
    scratch.mkdir(parents=True, exist_ok=True)
    task = {"name": "Run the role's tasks", "ansible.builtin.include_role": {"name": role, "tasks_from": tasks_from}}
    if each is not None:
        variables = {**variables, "_stack_each": each}
        task["loop"] = "{{ _stack_each }}"
        task["vars"] = {key: "{{ item['%s'] }}" % key for key in sorted({k for item in each for k in item})}
    play = [{
        "name": f"The stack's {name}", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": play_vars or {}, "tasks": [task],
    }]
    playbook = scratch / f"{name}.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    inventory = scratch / f"{name}-inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "hosts": {"localhost": {"ansible_connection": "local"}},
        "children": {group: {"hosts": {"localhost": {}}} for group in groups},
    }}))
    extra = scratch / f"{name}-vars.json"
    procs.write_atomically(extra, json.dumps({"ansible_python_interpreter": sys.executable, **variables}), mode=0o600)
    command = Path(sys.executable).parent / "ansible-playbook"
    env = {**stack.base_env(), **render.ansible_environment(stack.repo, scratch)}
    try:
        result = subprocess.run([str(command), "-i", str(inventory), "-e", f"@{extra}", str(playbook)],
                                env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    finally:
        extra.unlink(missing_ok=True)
    if result.returncode != 0:
        raise StackError(f"the {role} role's {tasks_from} tasks ({name}) failed:\n"
                         f"{result.stdout[-3000:]}{result.stderr[-2000:]}")
