"""Apache Hive as the hive role runs it: the standalone metastore (Hive's own distribution from
Maven Central) on a database of the stack's PostgreSQL, created as the postgresql role creates it,
its schema made by the role's schema tool tasks; then HiveServer2 (the Maven Central jars of
stack/hive/pom.xml) using it over Thrift. hive-site.xml, the logging configurations and beeline
come from the role's templates, both JVMs' command lines from the role's unit. Like the role
(its preflight), it needs the database host and Hadoop: the pg and hadoop services, started
before it; the metastore runs on Hadoop's jars and the warehouse is on the stack's HDFS."""

import re
import secrets
import subprocess
import time

from . import jars, pki, procs
from .errors import StackError, note
from .service import Service

# The role's two units, in start order (stopped in reverse): name, port name.
DAEMONS = (("metastore", "HIVE_METASTORE_PORT"), ("hiveserver2", "HIVE_PORT"))


def overrides(stack, directory, install_dir, metastore_dir, hadoop, db_password, keystore_password):
    """The stack's overrides of the hive role's defaults: loopback addresses, ports, paths (and the
    database's password, an inventory's vault variable; HiveServer2's key store's, which the pki
    role makes with it)."""
    jmx = stack.jmx_exporter()
    return {
        "hive_java_home": stack.java_home(),
        "hive_install_dir": str(install_dir),
        "hive_metastore_install_dir": str(metastore_dir),
        "hive_conf_dir": str(directory / "conf"),
        "hive_data_dir": str(directory),
        "hive_log_dir": str(directory / "logs"),
        "hive_hadoop_install_dir": str(hadoop.install),
        "hive_hadoop_conf_dir": str(hadoop.dir / "conf"),
        "hive_host": "127.0.0.1",
        "hive_server2_bind_host": "127.0.0.1",
        "hive_server2_port": stack.port("HIVE_PORT"),
        "hive_metastore_port": stack.port("HIVE_METASTORE_PORT"),
        "hive_metastore_db_host": "127.0.0.1",
        "hive_metastore_db_port": stack.port("PG_PORT"),
        "hive_metastore_db_password": db_password,
        "pki_ca_certificate": str(pki.ca_file(stack)),
        "pki_ca_truststore": str(pki.truststore_file(stack)),
        "pki_host_dir": str(pki.host_dir(stack)),
        "pki_keystore_password": keystore_password,
        "hive_site_extra": {
            # The role binds the metastore to every interface (Hive's default).
            "metastore.thrift.bind.host": "127.0.0.1",
            # Paths the role leaves at Hive's defaults under /tmp.
            "hive.exec.scratchdir": str(directory / "scratch"),
            "mapreduce.jobtracker.staging.root.dir": str(directory / "mapred-staging"),
            "hive.query.results.cache.directory": f"file://{directory / 'results-cache'}",
        },
        "hive_jmx_exporter_enabled": jmx is not None,
        "hive_jmx_exporter_address": "127.0.0.1",
        "hive_jmx_exporter_port": {"hiveserver2": stack.ports.get("JMX_HIVE_PORT", 0),
                                   "metastore": stack.ports.get("JMX_HIVE_METASTORE_PORT", 0)},
        "hive_jmx_exporter_dir": str(jmx.parent) if jmx else "",
    }


class Hive(Service):
    name = "hive"
    ports = ("HIVE_PORT", "HIVE_METASTORE_PORT")

    def __init__(self, stack):
        super().__init__(stack)
        self.maven = jars.cache_for(stack.repo, stack.cache, "hive")
        self.version = self.maven.version
        self.jars = self.maven.jars
        self.install = self.dir / "install"
        self.metastore_install = self.dir / "metastore-install"
        self.db_password_file = self.dir / "metastore-db-password"
        self.keystore_password_file = self.dir / "keystore-password"
        self.beeline = self.dir / "bin/beeline"

    def needs(self, name):
        """The service the role needs on this host (pg: the database; hadoop: jars, HDFS)."""
        if not self.stack.selects(name):
            raise StackError(f"hive needs the {name} service: select it before hive in MHFZ_STACK_SERVICES")
        return self.stack.services[name]

    def pidfile(self, daemon):
        return self.dir / f"{daemon}.pid"

    def secret(self, path):
        """24 random bytes (hex) in a 0600 file made at the first start."""
        if not path.is_file():
            self.dir.mkdir(parents=True, exist_ok=True)
            procs.write_atomically(path, secrets.token_hex(24), 0o600)
        return path.read_text().strip()

    def db_password(self):
        """The metastore database's password."""
        return self.secret(self.db_password_file)

    def certificates(self):
        # As the role asks for them: HiveServer2's key store, and the CA's Java trust store (beeline).
        return [pki.request("hive", self.stack.user, self.stack.group, keystore=True,
                            keystore_password=self.secret(self.keystore_password_file), java_truststore=True)]

    def role(self):
        return self.stack.role("hive", ["hive"], overrides(
            self.stack, self.dir, self.install, self.metastore_install, self.needs("hadoop"), self.db_password(),
            self.secret(self.keystore_password_file)))

    def jdbc_url(self):
        """The role's URL of HiveServer2 (TLS), as its beeline-site.xml names it."""
        return self.role().var("_hive_jdbc_url")

    def warehouse(self):
        return self.needs("hadoop").env()["MHFZ_HDFS_URI"] + self.role().var("hive_warehouse_dir")

    def env(self):
        return {
            "MHFZ_HIVE_VERSION": self.version,
            "MHFZ_HIVE_JDBC_URL": self.jdbc_url(),
            "MHFZ_BEELINE": str(self.beeline),
            "MHFZ_HIVE_WAREHOUSE": self.warehouse(),
        }

    def configure(self):
        """The role's install layout (lib/ = the cached jars; the metastore's distribution) and files."""
        role = self.role()
        for sub in ("logs", "tmp", "bin", "beeline-home"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        procs.link(self.install / "lib", self.jars)
        procs.link(self.metastore_install, jars.ensure_hive_metastore_dist(self.stack.cache, self.version))
        written = role.render_config("configure.yml", self.dir / "conf")
        if "hive-site.xml" not in written:
            raise StackError("the hive role no longer writes hive-site.xml into its configuration directory")
        # The role's beeline, with its history under the state dir.
        procs.write_atomically(self.dir / "bin/beeline.role", role.render_template("beeline.sh.j2"), 0o755)
        procs.write_atomically(self.beeline, (
            "#!/bin/sh\n# Written by scripts/stack: the role's beeline, its history under the state dir.\n"
            f'BEELINE_HOME="${{BEELINE_HOME:-{self.dir / "beeline-home"}}}" exec {self.dir / "bin/beeline.role"} "$@"\n'
        ), 0o755)
        return role

    def create_database(self, role):
        """The metastore's login role and database, named by the hive role, as the inventories
        give them to the postgresql role."""
        user, name = role.var("hive_metastore_db_user"), role.var("hive_metastore_db_name")
        self.needs("pg").create_users_and_databases(
            [{"name": user, "password": self.db_password()}], [{"name": name, "owner": user, "connect_users": [user]}])

    def schema(self, role):
        """The role's schema tasks: ask the schema tool for the version, create the schema only in a
        database without one, validate it."""
        log, commands = self.dir / "logs/schema.log", []

        def run(env, argv):
            commands.append(argv[-1])
            result = subprocess.run(self.stack.jvm(argv, self.dir / "tmp"), capture_output=True, text=True,
                                    stdin=subprocess.DEVNULL, cwd=self.dir, env={**self.stack.base_env(), **env})
            with open(log, "a") as out:
                out.write(f"$ {' '.join(argv[-2:])}\n{result.stdout}{result.stderr}")
            return result.returncode, result.stdout, result.stderr

        log.write_text("")
        role.run_commands("schema.yml", run)
        note(f"hive metastore schema: {' '.join(commands)} (log {log})")

    def log_tail(self, daemon):
        pattern = re.compile(r"ERROR|FATAL|Caused by")
        return "\n".join(procs.tail(p, 15, pattern) for p in (self.dir / f"logs/{daemon}.log", self.dir / f"{daemon}.out")
                         if p.exists())

    def wait_port(self, port, pid, deadline):
        """The metastore is up when it listens (as the role waits for it)."""
        while not procs.port_in_use(port):
            if not procs.alive(pid) or time.monotonic() > deadline:
                return False
            time.sleep(0.5)
        return True

    def wait_ready(self, port, pid, deadline):
        """HiveServer2 is ready when beeline gets an answer through its Thrift port (the metastore's included)."""
        if not self.wait_port(port, pid, deadline):
            return False
        while True:
            with open(self.dir / "logs/ready.out", "w") as out:
                answer = subprocess.run(
                    [str(self.beeline), "-u", self.jdbc_url(), "-n", self.stack.user,
                     "--silent=true", "-e", "SHOW DATABASES;"],
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            if answer.returncode == 0 and "default" in (self.dir / "logs/ready.out").read_text():
                return True
            if not procs.alive(pid) or time.monotonic() > deadline:
                return False
            time.sleep(1)

    def start(self):
        if all(self.owned_pid(self.pidfile(daemon)) for daemon, _ in DAEMONS):
            note(f"hive already running on 127.0.0.1: metastore {self.stack.port('HIVE_METASTORE_PORT')}, "
                 f"HiveServer2 {self.stack.port('HIVE_PORT')}")
            return
        self.stack.java_home()
        self.maven.ensure()
        started = time.monotonic()
        role = self.configure()
        services = role.var("_hive_services")
        for daemon, port_name in DAEMONS:
            if self.owned_pid(self.pidfile(daemon)):
                continue
            self.stack.check_ports_free([port_name])
            if daemon == "metastore":
                self.create_database(role)
                self.schema(role)
            env, argv = role.unit_command("hive.service.j2", item={"key": daemon, "value": services[daemon]})
            pid = procs.spawn(self.stack.jvm(argv, self.dir / "tmp"), self.pidfile(daemon), self.dir / f"{daemon}.out",
                              self.dir, env={**self.stack.base_env(), **env})
            port = self.stack.port(port_name)
            wait = self.wait_port if daemon == "metastore" else self.wait_ready
            if not wait(port, pid, time.monotonic() + self.stack.start_timeout):
                tail = self.log_tail(daemon) + ("\n" + procs.tail(self.dir / "logs/ready.out", 10)
                                                if daemon == "hiveserver2" else "")
                self.stop()
                raise StackError(f"hive {daemon} did not answer on 127.0.0.1:{port} within "
                                 f"{self.stack.start_timeout}s\n{tail}")
        note(f"hive {self.version} running on 127.0.0.1: metastore {self.stack.port('HIVE_METASTORE_PORT')} "
             f"(PostgreSQL database {role.var('hive_metastore_db_name')}), HiveServer2 {self.stack.port('HIVE_PORT')}, "
             f"warehouse {self.warehouse()} ({time.monotonic() - started:.0f} s)")

    def stop(self):
        for daemon, _ in reversed(DAEMONS):
            pid = self.owned_pid(self.pidfile(daemon))
            if pid:
                # SIGTERM: HiveServer2's shutdown hook closes its sessions, the metastore's its database pool.
                procs.terminate(f"hive {daemon}", pid, self.stack.stop_timeout)
                note(f"hive {daemon} stopped")
            self.pidfile(daemon).unlink(missing_ok=True)

    def status(self):
        up, down = [], []
        for daemon, port_name in DAEMONS:
            pid = self.owned_pid(self.pidfile(daemon))
            port = self.stack.ports.get(port_name)
            (up if pid and port and procs.port_in_use(port) else down).append(f"{daemon} {pid}" if pid else daemon)
        if not down:
            return True, (f"hive: running (pid {','.join(up)}) on 127.0.0.1:{self.stack.ports['HIVE_PORT']} "
                          f"(HiveServer2), :{self.stack.ports['HIVE_METASTORE_PORT']} (metastore)")
        return False, f"hive: stopped (not running: {' '.join(down)})" if up else "hive: stopped"
