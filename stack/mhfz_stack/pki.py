"""The stack's certificates, made by the pki role itself: ansible-playbook on localhost runs its
entry point `certificate` (the same tasks a deployment runs), with the stack's CA in state/pki
(0700; its key's passphrase random, kept beside it) and the services' keys and certificates in
state/pki-host, where the services' users can reach them. The stack asks for every selected
service's certificates (Service.certificates) in one run before it starts them; the CA
certificate is what clients verify the services with (MHFZ_PG_CA_FILE, MHFZ_KAFKA_CA_FILE)."""

import secrets

from . import playbook, procs, render
from .errors import note


def controller_dir(stack):
    return stack.state / "pki"


def host_dir(stack):
    """pki_host_dir of the stack's services."""
    return stack.state / "pki-host"


def ca_file(stack):
    return host_dir(stack) / "ca.crt"


def truststore_file(stack):
    """The CA's certificate in a Java trust store (pki_ca_truststore; requests with java_truststore)."""
    return host_dir(stack) / "ca.p12"


def request(service, owner, group, **options):
    """A certificate for one service: the pki role's entry point `certificate` variables (options:
    more of them, e.g. pki_key_bundle=True, pki_keystore=True)."""
    return {"pki_service": service, "pki_key_owner": owner, "pki_key_group": group,
            **{f"pki_{name}": value for name, value in options.items()}}


def installed_files(stack, request):
    """The files the pki role installs for a request (the options' files among them)."""
    service, host = request["pki_service"], host_dir(stack)
    kinds = ["crt", "key"] + (["pem"] if request.get("pki_key_bundle") else []) + (
        ["p12"] if request.get("pki_keystore") else [])
    return [host / f"{service}.{kind}" for kind in kinds] + (
        [truststore_file(stack)] if request.get("pki_java_truststore") else [])


def ensure_certificates(stack, requests):
    """For each request (see request()), the files the pki role installs in host_dir, made by it
    unless they are there; all in one run of it."""
    host = host_dir(stack)
    missing = [r for r in requests if not all(path.is_file() for path in installed_files(stack, r))]
    if not missing:
        return
    pki = controller_dir(stack)
    pki.mkdir(mode=0o700, exist_ok=True)
    passphrase = pki / "ca-passphrase"
    if not passphrase.is_file():
        procs.write_atomically(passphrase, secrets.token_hex(24), mode=0o600)
    settings = {"pki_dir": str(pki), "pki_ca_passphrase": passphrase.read_text().strip(), "pki_host_dir": str(host)}
    if any(r.get("pki_java_truststore") for r in missing):
        settings["pki_java_home"] = stack.java_home()
    # Each run sets the same variables: those a request leaves out at the role's defaults.
    defaults = render.role_defaults(stack.repo, "pki")
    names = sorted({name for r in missing for name in r})
    each = [{name: r.get(name, defaults[name]) for name in names} for r in missing]
    playbook.run_role_tasks(stack, "certificates", "pki", "certificate", settings, each=each)
    note(f"{', '.join(r['pki_service'] for r in missing)} certificates issued by the stack's CA ({ca_file(stack)})")
