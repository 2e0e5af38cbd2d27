"""PostgreSQL: the newest server of the Debian packages (/usr/lib/postgresql/*/bin), a cluster of its
own under the state dir, with the postgresql role's settings (mhfz.conf) and client authentication
(pg_hba.conf): scram-sha-256 for every network connection."""

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

from . import pki, procs
from .errors import StackError, note
from .service import Service

# The stack's overrides of the postgresql role's defaults: where it listens and where its
# certificate is (the pki role's pki_host_dir), nothing else.
def overrides(stack):
    return {"postgresql_port": stack.port("PG_PORT"), "postgresql_listen_addresses": ["127.0.0.1"],
            "pki_host_dir": str(pki.host_dir(stack))}


def _ident(name):
    return '"' + str(name).replace('"', '""') + '"'


def _literal(text):
    return "'" + str(text).replace("'", "''") + "'"


def _names(value):
    """A list, or a comma-separated string, as the community.postgresql modules take them."""
    return [str(v).strip() for v in (value if isinstance(value, list) else str(value).split(","))]


def _grantee(name):
    return "PUBLIC" if name.upper() == "PUBLIC" else _ident(name)


def module_sql(module, args):
    """The SQL of one call of a community.postgresql module as the postgresql role's users.yml and
    databases.yml call it; idempotent, as the modules are."""
    kind = module.rsplit(".", 1)[1]
    if kind == "postgresql_user":
        flags = _names(args["role_attr_flags"])
        if not all(re.fullmatch(r"[A-Z]+", flag) for flag in flags):
            raise StackError(f"unexpected role_attr_flags {flags} of roles/postgresql users.yml")
        name = args["name"]
        return (f"SELECT {_literal('CREATE ROLE ' + _ident(name))} "
                f"WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(name)}) \\gexec\n"
                f"ALTER ROLE {_ident(name)} WITH {' '.join(flags)} PASSWORD {_literal(args['password'])};\n")
    if kind == "postgresql_membership":
        return "".join(f"GRANT {_ident(group)} TO {_ident(target)};\n"
                       for group in _names(args["groups"]) for target in _names(args["target_roles"]))
    if kind == "postgresql_db":
        name, owner = args["name"], args["owner"]
        create = f"CREATE DATABASE {_ident(name)} OWNER {_ident(owner)} ENCODING {_literal(args['encoding'])}"
        return (f"SELECT {_literal(create)} WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = {_literal(name)}) "
                f"\\gexec\nALTER DATABASE {_ident(name)} OWNER TO {_ident(owner)};\n")
    if kind == "postgresql_privs" and args["type"] == "database":
        privs = ", ".join(_names(args["privs"]))
        objs = ", ".join(_ident(obj) for obj in _names(args["objs"]))
        roles = ", ".join(_grantee(role) for role in _names(args["roles"]))
        if args["state"] == "absent":
            return f"REVOKE {privs} ON DATABASE {objs} FROM {roles};\n"
        return f"GRANT {privs} ON DATABASE {objs} TO {roles};\n"
    raise StackError(f"the stack does not know how to apply {module} ({args}) of roles/postgresql: see pg.module_sql")


def find_pg_bin(stack):
    def newest():
        dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))
        return dirs[-1] if dirs and (dirs[-1] / "initdb").exists() else None

    bin_dir = newest()
    if bin_dir is None:
        stack.apt_install("PostgreSQL (initdb, pg_ctl)", ["postgresql"])
        bin_dir = newest()
    if bin_dir is None or not all((bin_dir / tool).exists() for tool in ("initdb", "pg_ctl", "pg_isready")):
        raise StackError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return bin_dir


class Postgres(Service):
    name = "pg"
    ports = ("PG_PORT",)

    def __init__(self, stack):
        super().__init__(stack)
        self.data = self.dir / "data"
        self.password_file = stack.state / "pg-admin-password"
        self.root = os.geteuid() == 0

    def env(self):
        return {
            "MHFZ_PG_HOST": "127.0.0.1",
            "MHFZ_PG_PORT": str(self.stack.port("PG_PORT")),
            "MHFZ_PG_ADMIN_USER": "postgres",
            "MHFZ_PG_ADMIN_PASSWORD_FILE": str(self.password_file),
            **self.tls_env(),
        }

    def tls_env(self):
        """TLS, verifying the server's certificate and name against the stack's CA: the Rust
        clients' variable and libpq's (psql in the scripts and tests)."""
        ca = str(pki.ca_file(self.stack))
        return {"MHFZ_PG_CA_FILE": ca, "PGSSLMODE": "verify-full", "PGSSLROOTCERT": ca}

    def psql_env(self):
        """psql's environment as the superuser: the password in it, never on a command line."""
        return {**self.stack.base_env(), **self.tls_env(), "PGPASSWORD": self.password_file.read_text().strip()}

    def as_pg(self, argv, **kwargs):
        """initdb and the server refuse to run as root: as root they run as the Debian package's
        postgres user (from /, a directory it may enter), otherwise as the invoking user."""
        if self.root:
            return subprocess.run(["runuser", "-u", "postgres", "--", *argv], cwd="/", **kwargs)
        return subprocess.run(argv, **kwargs)

    def write_as_pg(self, path, text, mode=0o600):
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        tmp.chmod(mode)
        if self.root:
            shutil.chown(tmp, "postgres", "postgres")
        tmp.replace(path)

    def grant_search_path(self):
        """As root the state dir may sit under a home the postgres user cannot enter (/root is
        0700): grant that user search permission, and only that, on each such ancestor by ACL."""
        if not self.root:
            return
        for directory in [*reversed(self.stack.state.parents), self.stack.state]:
            if subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(directory)]).returncode == 0:
                continue
            if shutil.which("setfacl") is None:
                self.stack.apt_install("setfacl", ["acl"])
            note(f"granting user postgres search (x) permission on {directory} by ACL, to reach {self.dir}")
            subprocess.run(["setfacl", "-m", "u:postgres:x", str(directory)], check=True)

    def init(self, bin_dir):
        if (self.data / "PG_VERSION").exists():
            if not self.password_file.is_file() or not self.password_file.stat().st_size:
                raise StackError(
                    f"{self.data} exists but the admin password file {self.password_file} is gone; "
                    f"remove {self.dir} to start afresh"
                )
            return
        if not self.password_file.is_file() or not self.password_file.stat().st_size:
            procs.write_atomically(self.password_file, secrets.token_hex(24), mode=0o600)
        self.password_file.chmod(0o600)
        shutil.rmtree(self.dir, ignore_errors=True)
        (self.dir / "socket").mkdir(parents=True)
        if self.root:
            for path in (self.dir, self.dir / "socket"):
                shutil.chown(path, "postgres", "postgres")
        self.dir.chmod(0o700)
        self.grant_search_path()
        # initdb reads the password from a file: a copy only the server user can read, inside its
        # own 0700 directory, removed right after. It never appears on a command line.
        copy = self.dir / "initdb-password"
        self.write_as_pg(copy, self.password_file.read_text())
        try:
            result = self.as_pg(
                [str(bin_dir / "initdb"), f"--pgdata={self.data}", "--username=postgres", "--auth=scram-sha-256",
                 "--encoding=UTF8", "--no-locale", f"--pwfile={copy}"],
                capture_output=True, text=True,
            )
        finally:
            copy.unlink(missing_ok=True)
        if result.returncode != 0:
            raise StackError(f"initdb failed for {self.data}:\n{result.stdout}{result.stderr}")
        conf = self.data / "postgresql.conf"
        self.write_as_pg(conf, conf.read_text() + "include_if_exists = 'mhfz.conf'\ninclude_if_exists = 'stack.conf'\n")

    def create_users_and_databases(self, users, databases):
        """Login roles and databases as the postgresql role creates them: its users.yml and
        databases.yml, given these postgresql_users and postgresql_databases (the inventories'
        entries), as SQL through psql as the superuser. The SQL, passwords included, goes on psql's
        stdin and the superuser's password in its environment (psql_env)."""
        role = self.stack.role("postgresql", ["postgresql"], {
            **overrides(self.stack), "postgresql_users": users, "postgresql_databases": databases,
        }, key="postgresql users and databases")
        sql = "SET client_min_messages = warning;\n" + "".join(
            module_sql(module, args) for task_file in ("users.yml", "databases.yml")
            for module, args in role.module_calls(task_file))
        result = subprocess.run(
            [str(find_pg_bin(self.stack) / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.stack.port("PG_PORT")), "-U", "postgres", "-d", "postgres"],
            input=sql, text=True, capture_output=True,
            env=self.psql_env(),
        )
        if result.returncode != 0:
            names = ", ".join([u["name"] for u in users] + [d["name"] for d in databases])
            raise StackError(f"could not create the PostgreSQL login roles and databases {names}: {result.stderr}")

    def write_config(self):
        """The role's server settings and client authentication, and the socket's directory."""
        role = self.stack.role("postgresql", ["postgresql"], overrides(self.stack))
        self.write_as_pg(self.data / "mhfz.conf", role.render_template("mhfz.conf.j2"))
        self.write_as_pg(self.data / "pg_hba.conf", role.render_template("pg_hba.conf.j2"))
        self.write_as_pg(self.data / "stack.conf", f"unix_socket_directories = '{self.dir / 'socket'}'\n")

    def certificates(self):
        # The key is the server's alone (0600): as root, the postgres user's.
        owner = ("postgres", "postgres") if self.root else (self.stack.user, self.stack.group)
        return [pki.request("postgresql", *owner)]

    def start(self):
        bin_dir = find_pg_bin(self.stack)
        self.init(bin_dir)
        port = self.stack.port("PG_PORT")
        pid = self.owned_pid(self.data / "postmaster.pid")
        if pid:
            note(f"postgresql already running (pid {pid}) on 127.0.0.1:{port}")
            return
        self.stack.check_ports_free(["PG_PORT"])
        self.write_config()
        log = self.dir / "postgres.log"
        result = self.as_pg(
            [str(bin_dir / "pg_ctl"), f"--pgdata={self.data}", f"--log={log}", "--wait",
             f"--timeout={self.stack.start_timeout}", "start"],
            stdout=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise StackError(f"postgresql did not start\n{procs.tail(log)}")
        ready = subprocess.run([str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port),
                                "-t", str(self.stack.start_timeout)])
        if ready.returncode != 0:
            raise StackError(f"postgresql does not answer on 127.0.0.1:{port}")
        pid = self.owned_pid(self.data / "postmaster.pid")
        if not pid:
            raise StackError("postgresql answers but its pid file is missing")
        note(f"postgresql running (pid {pid}) on 127.0.0.1:{port}")

    def stop(self):
        pid = self.owned_pid(self.data / "postmaster.pid")
        if not pid:
            return
        bin_dir = find_pg_bin(self.stack)
        # Fast shutdown: roll back open transactions, checkpoint, exit.
        self.as_pg([str(bin_dir / "pg_ctl"), f"--pgdata={self.data}", "--mode=fast", "--wait",
                    f"--timeout={self.stack.stop_timeout}", "stop"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if procs.alive(pid):
            procs.terminate("postgresql", pid, self.stack.stop_timeout)
        note("postgresql stopped")

    def status(self):
        pid = self.owned_pid(self.data / "postmaster.pid")
        port = self.stack.ports.get("PG_PORT")
        if pid and port and procs.port_in_use(port):
            return True, f"postgresql: running (pid {pid}) on 127.0.0.1:{port}"
        return False, "postgresql: stopped"
