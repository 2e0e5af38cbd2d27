"""The stack's certificates, made by the pki role itself: ansible-playbook on localhost runs its
entry point `certificate` (the same tasks a deployment runs), with the stack's CA in state/pki
(0700; its key's passphrase random, kept beside it) and the services' keys and certificates in
state/pki-host, where the services' users can reach them. A service asks for its certificate before it starts; the CA certificate is what
clients verify the services with (MHFZ_PG_CA_FILE)."""

import json
import secrets
import subprocess
import sys
from pathlib import Path

from . import procs, render
from .errors import StackError, note

PLAY = """- name: The stack's certificate
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Issue it
      ansible.builtin.include_role:
        name: pki
        tasks_from: certificate
"""


def controller_dir(stack):
    return stack.state / "pki"


def host_dir(stack):
    """pki_host_dir of the stack's services."""
    return stack.state / "pki-host"


def ca_file(stack):
    return host_dir(stack) / "ca.crt"


def ensure_certificate(stack, service, key_owner, key_group):
    """SERVICE.crt and SERVICE.key in host_dir, made by the pki role unless both are there."""
    host = host_dir(stack)
    if (host / f"{service}.crt").is_file() and (host / f"{service}.key").is_file():
        return
    pki = controller_dir(stack)
    pki.mkdir(mode=0o700, exist_ok=True)
    passphrase = pki / "ca-passphrase"
    if not passphrase.is_file():
        procs.write_atomically(passphrase, secrets.token_hex(24), mode=0o600)
    scratch = stack.state / "ansible"
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "pki.yml").write_text(PLAY)
    # The passphrase goes in a 0600 file of extra variables, never on a command line.
    variables = scratch / "pki-vars.json"
    procs.write_atomically(variables, json.dumps({
        "ansible_python_interpreter": sys.executable,
        "pki_dir": str(pki), "pki_ca_passphrase": passphrase.read_text().strip(),
        "pki_host_dir": str(host), "pki_service": service,
        "pki_key_owner": key_owner, "pki_key_group": key_group,
    }), mode=0o600)
    playbook = Path(sys.executable).parent / "ansible-playbook"
    env = {**stack.base_env(), **render.ansible_environment(stack.repo, scratch)}
    try:
        result = subprocess.run([str(playbook), "-i", "localhost,", "-e", f"@{variables}", str(scratch / "pki.yml")],
                                env=env, capture_output=True, text=True)
    finally:
        variables.unlink(missing_ok=True)
    if result.returncode != 0:
        raise StackError(f"the pki role could not issue the {service} certificate:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    note(f"{service} certificate issued by the stack's CA ({ca_file(stack)})")
