"""The stack's certificates, made by the pki role itself: ansible-playbook on localhost runs its
entry point `certificate` (the same tasks a deployment runs), with the stack's CA in state/pki
(0700; its key's passphrase random, kept beside it) and the services' keys and certificates in
state/pki-host, where the services' users can reach them. The stack asks for every selected
service's certificates (Service.certificates) in one run before it starts them; the CA
certificate is what clients verify the services with (MHFZ_PG_CA_FILE, MHFZ_KAFKA_CA_FILE)."""

import secrets

from . import playbook, procs
from .errors import note


def controller_dir(stack):
    return stack.state / "pki"


def host_dir(stack):
    """pki_host_dir of the stack's services."""
    return stack.state / "pki-host"


def ca_file(stack):
    return host_dir(stack) / "ca.crt"


def ensure_certificates(stack, requests):
    """For each request (service, key owner, key group, bundle): SERVICE.crt and SERVICE.key in
    host_dir (with bundle, SERVICE.pem too: both in one file), made by the pki role unless they are
    there; all in one run of it."""
    host = host_dir(stack)
    missing = [
        (service, owner, group, bundle) for service, owner, group, bundle in requests
        if not all((host / f"{service}.{kind}").is_file() for kind in ("crt", "key") + (("pem",) if bundle else ()))
    ]
    if not missing:
        return
    pki = controller_dir(stack)
    pki.mkdir(mode=0o700, exist_ok=True)
    passphrase = pki / "ca-passphrase"
    if not passphrase.is_file():
        procs.write_atomically(passphrase, secrets.token_hex(24), mode=0o600)
    playbook.run_role_tasks(stack, "certificates", "pki", "certificate", {
        "pki_dir": str(pki), "pki_ca_passphrase": passphrase.read_text().strip(), "pki_host_dir": str(host),
    }, each=[
        {"pki_service": service, "pki_key_owner": owner, "pki_key_group": group, "pki_key_bundle": bundle}
        for service, owner, group, bundle in missing
    ])
    note(f"{', '.join(m[0] for m in missing)} certificates issued by the stack's CA ({ca_file(stack)})")
