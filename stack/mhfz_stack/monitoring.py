"""Supervision: Prometheus with the prometheus role's configuration (prometheus.yml rendered from
the role's template, which generates the scrape jobs from the inventory, and the role's rule
files), node_exporter (textfile collector) and postgres_exporter from the Debian packages, and
cAdvisor (built from tools/cadvisor, as for the cadvisor role), on 127.0.0.1. While this service
is selected, the kafka, hadoop and hive roles' JMX exporter agents are on (stack.jmx_exporter).
Not a default service: select it last, e.g.
  MHFZ_STACK_SERVICES="pg kafka hadoop hive monitoring" scripts/stack start"""

import os
import secrets
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from . import procs
from .errors import StackError, note
from .service import Service

# Daemons in start order (stopped in reverse): name, Debian package, binary (cAdvisor: no
# package, scripts/lib/cadvisor.sh builds it).
DAEMONS = (
    ("node_exporter", "prometheus-node-exporter", "/usr/bin/prometheus-node-exporter"),
    ("cadvisor", None, None),
    ("postgres_exporter", "prometheus-postgres-exporter", "/usr/bin/prometheus-postgres-exporter"),
    ("prometheus", "prometheus", "/usr/bin/prometheus"),
)

# The inventory groups the stack's host is in, for each selected service: the prometheus role
# generates a scrape job per group (and `all`, `prometheus` and `pipeline` always).
GROUPS = {
    "pg": ["postgresql"],
    "kafka": ["kafka"],
    "hadoop": ["hadoop_namenode", "hadoop_datanode", "yarn_resourcemanager", "yarn_nodemanager"],
    "hive": ["hive"],
}


def overrides(stack, rules_dir):
    """The stack's overrides for the prometheus role, as host variables of its one host (the role
    reads the exporters' addresses and the JMX agents' ports from each host's variables): loopback
    addresses, ports, the rules directory (the role's own files), and a 5 s scrape and evaluation
    interval so the live check sees data within seconds."""
    p = stack.port
    local = lambda name: f"127.0.0.1:{p(name)}"  # noqa: E731
    jmx = {name: p(f"JMX_{name.upper()}_PORT")
           for name in ("namenode", "datanode", "resourcemanager", "nodemanager", "historyserver")}
    return {
        "prometheus_web_listen_address": local("PROMETHEUS_PORT"),
        "prometheus_rules_dir": str(rules_dir),
        "prometheus_scrape_interval": "5s",
        "prometheus_scrape_timeout": "4s",
        "prometheus_evaluation_interval": "5s",
        "node_exporter_web_listen_address": local("NODE_EXPORTER_PORT"),
        "postgres_exporter_web_listen_address": local("PG_EXPORTER_PORT"),
        "cadvisor_enabled": True,
        "cadvisor_port": p("CADVISOR_PORT"),
        "mhfz_pipeline_consumer_metrics_addr": local("CONSUMER_METRICS_PORT"),
        "kafka_jmx_exporter_enabled": True,
        "kafka_jmx_exporter_port": p("JMX_KAFKA_PORT"),
        "hadoop_jmx_exporter_enabled": True,
        "hadoop_jmx_exporter_port": jmx,
        "hive_jmx_exporter_enabled": True,
        "hive_jmx_exporter_port": {"hiveserver2": p("JMX_HIVE_PORT"), "metastore": p("JMX_HIVE_METASTORE_PORT")},
    }


class Monitoring(Service):
    name = "monitoring"
    ports = ("PROMETHEUS_PORT", "NODE_EXPORTER_PORT", "PG_EXPORTER_PORT", "CADVISOR_PORT", "CONSUMER_METRICS_PORT",
             "JMX_KAFKA_PORT", "JMX_NAMENODE_PORT", "JMX_DATANODE_PORT", "JMX_RESOURCEMANAGER_PORT",
             "JMX_NODEMANAGER_PORT", "JMX_HISTORYSERVER_PORT", "JMX_HIVE_PORT", "JMX_HIVE_METASTORE_PORT")

    def __init__(self, stack):
        super().__init__(stack)
        self.rules = stack.repo / "roles/prometheus/files/rules"
        self.textfile = self.dir / "textfile"
        self.pg_password_file = self.dir / "pg-exporter-password"

    def pidfile(self, name):
        return self.dir / f"{name}.pid"

    def role(self):
        groups = ["prometheus", "pipeline"] + [g for s in self.stack.selected for g in GROUPS.get(s, [])]
        return self.stack.role("prometheus", groups, overrides(self.stack, self.rules))

    def env(self):
        return {
            "MHFZ_PROMETHEUS_URL": f"http://127.0.0.1:{self.stack.port('PROMETHEUS_PORT')}",
            "MHFZ_NODE_EXPORTER_TEXTFILE_DIR": str(self.textfile),
            "MHFZ_CONSUMER_METRICS_ADDR": f"127.0.0.1:{self.stack.port('CONSUMER_METRICS_PORT')}",
        }

    def write_config(self):
        config = self.dir / "prometheus.yml"
        procs.write_atomically(config, self.role().render_template("prometheus.yml.j2", str(config)))
        check = subprocess.run(["/usr/bin/promtool", "check", "config", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise StackError(f"promtool rejects {config}:\n{check.stdout}{check.stderr}")
        return config

    def pg_login(self):
        """postgres_exporter's login role (pg_monitor, nothing more), with a password of its own,
        created once and reset at every start. Both passwords reach psql on stdin and in its
        environment, never on a command line (readable by anyone in /proc)."""
        user = "mhfz_monitoring"
        if not self.pg_password_file.is_file():
            procs.write_atomically(self.pg_password_file, secrets.token_hex(24), 0o600)
        pg = self.stack.services["pg"]
        sql = (
            f"\\set user {user}\n"
            f"\\set password {self.pg_password_file.read_text().strip()}\n"
            "SET client_min_messages = warning;\n"
            "SELECT format('CREATE ROLE %I LOGIN', :'user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \\gexec\n"
            "ALTER ROLE :\"user\" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';\n"
            "GRANT pg_monitor TO :\"user\";\n"
        )
        result = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.stack.port("PG_PORT")),
             "-U", "postgres", "-d", "postgres"],
            input=sql, text=True, capture_output=True,
            env={**self.stack.base_env(), "PGPASSWORD": pg.password_file.read_text().strip()},
        )
        if result.returncode != 0:
            raise StackError(f"could not create the PostgreSQL role {user} for postgres_exporter: {result.stderr}")
        return user

    def wait_http(self, name, url, pid):
        deadline = time.monotonic() + self.stack.start_timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=3):
                    return
            except OSError:
                pass
            if not procs.alive(pid) or time.monotonic() > deadline:
                tail = procs.tail(self.dir / f"{name}.log", 20)
                self.stop()
                raise StackError(f"{name} did not answer {url}\n{tail}")
            time.sleep(0.3)

    def start_daemon(self, name, argv, url, env=None, argv0=None):
        if self.owned_pid(self.pidfile(name)):
            return
        pid = procs.spawn(argv, self.pidfile(name), self.dir / f"{name}.log", self.dir,
                          env={**self.stack.base_env(), **(env or {})}, argv0=argv0)
        if not self.owned_pid(self.pidfile(name)):
            raise StackError(f"{name} exited at once\n{procs.tail(self.dir / f'{name}.log', 20)}")
        self.wait_http(name, url, pid)

    def cadvisor(self):
        """The binary the cadvisor role installs, built once into the cache (scripts/lib/cadvisor.sh)."""
        script = f'note() {{ echo "stack: $*" >&2; }}; die() {{ note "$*"; exit 1; }}; ' \
                 f'repo={self.stack.repo}; cache={self.stack.cache}; source "$repo/scripts/lib/cadvisor.sh"; ' \
                 'ensure_cadvisor >&2; echo "$cadvisor_binary"'
        result = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, text=True)
        if result.returncode != 0:
            raise StackError("building cAdvisor failed (output above)")
        return result.stdout.strip()

    def start(self):
        missing = [package for _, package, binary in DAEMONS if package and not Path(binary).exists()]
        if missing:
            self.stack.apt_install("Prometheus and its exporters", missing)
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        self.textfile.mkdir(parents=True, exist_ok=True)
        config = self.write_config()
        started = time.monotonic()
        p = self.stack.port
        self.start_daemon("node_exporter", [
            "/usr/bin/prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{p('NODE_EXPORTER_PORT')}",
            f"--collector.textfile.directory={self.textfile}"], f"http://127.0.0.1:{p('NODE_EXPORTER_PORT')}/metrics")
        # The next two name nothing of the state dir on their command lines: their argv[0] does.
        if not self.owned_pid(self.pidfile("cadvisor")):
            self.start_daemon("cadvisor", [
                self.cadvisor(), "--listen", f"127.0.0.1:{p('CADVISOR_PORT')}", "--housekeeping-interval", "5s"],
                f"http://127.0.0.1:{p('CADVISOR_PORT')}/metrics", argv0=str(self.dir / "cadvisor"))
        if not self.owned_pid(self.pidfile("postgres_exporter")):
            user = self.pg_login() if self.stack.selects("pg") else "mhfz_monitoring"
            self.start_daemon("postgres_exporter", [
                "/usr/bin/prometheus-postgres-exporter", f"--web.listen-address=127.0.0.1:{p('PG_EXPORTER_PORT')}",
                "--log.level=warn"], f"http://127.0.0.1:{p('PG_EXPORTER_PORT')}/metrics",
                env={"DATA_SOURCE_URI": f"127.0.0.1:{self.stack.ports.get('PG_PORT', 5432)}/postgres?sslmode=disable",
                     "DATA_SOURCE_USER": user, "DATA_SOURCE_PASS_FILE": str(self.pg_password_file)},
                argv0=str(self.dir / "postgres_exporter"))
        pid = self.owned_pid(self.pidfile("prometheus"))
        if pid:
            # A running server reads the configuration again (new ports, services or rules).
            os.kill(pid, signal.SIGHUP)
        else:
            self.start_daemon("prometheus", [
                "/usr/bin/prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.dir / 'data'}",
                "--storage.tsdb.retention.time=2d", f"--web.listen-address=127.0.0.1:{p('PROMETHEUS_PORT')}",
                "--web.enable-lifecycle"], f"http://127.0.0.1:{p('PROMETHEUS_PORT')}/-/ready")
        note(f"monitoring running on 127.0.0.1: Prometheus {p('PROMETHEUS_PORT')}, node_exporter "
             f"{p('NODE_EXPORTER_PORT')}, cAdvisor {p('CADVISOR_PORT')}, postgres_exporter {p('PG_EXPORTER_PORT')} "
             f"({time.monotonic() - started:.0f} s)")

    def stop(self):
        for name, _, _ in reversed(DAEMONS):
            pid = self.owned_pid(self.pidfile(name))
            if pid:
                procs.terminate(name, pid, self.stack.stop_timeout)
            self.pidfile(name).unlink(missing_ok=True)

    def status(self):
        up, down = [], []
        for name, _, _ in DAEMONS:
            pid = self.owned_pid(self.pidfile(name))
            (up if pid else down).append(f"{name} {pid}" if pid else name)
        port = self.stack.ports.get("PROMETHEUS_PORT")
        if not down and port and procs.port_in_use(port):
            return True, f"monitoring: running (pid {','.join(up)}) on 127.0.0.1:{port} (Prometheus)"
        return False, f"monitoring: stopped (not running: {' '.join(down)})" if up else "monitoring: stopped"
