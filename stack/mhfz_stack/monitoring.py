"""Supervision: Prometheus with the prometheus role's configuration (prometheus.yml rendered from
the role's template, which generates the scrape jobs from the inventory, and the role's rule
files), node_exporter (textfile collector) and postgres_exporter from the Debian packages, and
cAdvisor (built from tools/cadvisor, as for the cadvisor role), on 127.0.0.1, each started with
the command line (and environment) of its role's unit or drop-in. While this service is selected,
the kafka, hadoop and hive roles' JMX exporter agents are on (stack.jmx_exporter).
Not a default service: select it last, e.g.
  MHFZ_STACK_SERVICES="pg kafka hadoop hive monitoring" scripts/stack start"""

import os
import secrets
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from . import cadvisor, pki, procs
from .errors import StackError, note
from .service import Service

# Daemons in start order (stopped in reverse), each its role's: the role's unit or drop-in whose
# ExecStart (and Environment) it runs, and the path the role checks at its _<name>_local_address.
# The binaries are the Debian packages' (the role's _<name>_binary and _<name>_package), but
# cAdvisor's, which is built (cadvisor.py) and linked into the role's install layout.
DAEMONS = {
    "node_exporter": ("override.conf.j2", "/metrics"),
    "cadvisor": ("cadvisor.service.j2", "/metrics"),
    "postgres_exporter": ("override.conf.j2", "/metrics"),
    "prometheus": ("override.conf.j2", "/-/ready"),
}

# The inventory groups the stack's host is in, for each selected service: the prometheus role
# generates a scrape job per group (and `all`, `prometheus` and `pipeline` always).
GROUPS = {
    "pg": ["postgresql"],
    "kafka": ["kafka"],
    "hadoop": ["hadoop_namenode", "hadoop_datanode", "yarn_resourcemanager", "yarn_nodemanager"],
    "hive": ["hive"],
}


def overrides(stack, rules_dir, textfile_dir, cadvisor_install_dir):
    """The stack's overrides, as host variables of its one host, for the four roles: each exporter's
    role reads its own (its command line), the prometheus role reads them all (it scrapes each
    host where its variables say). Loopback addresses, ports, paths (the textfile directory,
    cAdvisor's install dir, the rules directory: the role's own files), PostgreSQL's port; test
    timing: a 5 s scrape, evaluation and cAdvisor housekeeping interval, so the live check sees
    data within seconds."""
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
        "node_exporter_textfile_dir": str(textfile_dir),
        "postgres_exporter_web_listen_address": local("PG_EXPORTER_PORT"),
        **({"postgres_exporter_pg_port": p("PG_PORT")} if "PG_PORT" in stack.ports else {}),
        "pki_ca_certificate": str(pki.ca_file(stack)),
        "cadvisor_enabled": True,
        "cadvisor_listen_address": "127.0.0.1",
        "cadvisor_port": p("CADVISOR_PORT"),
        "cadvisor_install_dir": str(cadvisor_install_dir),
        "cadvisor_housekeeping_interval": "5s",
        "mhfz_pipeline_consumer_metrics_addr": local("CONSUMER_METRICS_PORT"),
        "kafka_jmx_exporter_enabled": True,
        "kafka_jmx_exporter_port": p("JMX_KAFKA_PORT"),
        "hadoop_jmx_exporter_enabled": True,
        "hadoop_jmx_exporter_port": jmx,
        "hive_jmx_exporter_enabled": True,
        "hive_jmx_exporter_port": {"hiveserver2": p("JMX_HIVE_PORT"), "metastore": p("JMX_HIVE_METASTORE_PORT")},
    }


def debian_paths(directory, pg_password_file):
    """The paths the roles keep fixed as the Debian packages' (role vars, which host variables do
    not override), given over the role's when its files are rendered: Prometheus' configuration and
    data directories, postgres_exporter's password file (the unit's credential)."""
    return {
        "_prometheus_config_dir": str(directory),
        "_prometheus_data_dir": str(directory / "data"),
        "_postgres_exporter_password_file": str(pg_password_file),
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
        self.cadvisor_install = self.dir / "cadvisor"
        self.pg_password_file = self.dir / "pg-exporter-password"

    def pidfile(self, name):
        return self.dir / f"{name}.pid"

    def role(self, name="prometheus"):
        """The role of the daemon named, on the one host all four roles share."""
        groups = ["prometheus", "pipeline"] + [g for s in self.stack.selected for g in GROUPS.get(s, [])]
        return self.stack.role(name, groups, overrides(self.stack, self.rules, self.textfile, self.cadvisor_install))

    def command(self, name):
        """(environment, argv) of the daemon's role's unit, with the stack's paths for the Debian ones."""
        return self.role(name).unit_command(DAEMONS[name][0], credentials=self.dir / "credentials",
                                            **debian_paths(self.dir, self.pg_password_file))

    def url(self, name):
        return f"http://{self.role(name).var(f'_{name}_local_address')}{DAEMONS[name][1]}"

    def env(self):
        return {
            "MHFZ_PROMETHEUS_URL": f"http://127.0.0.1:{self.stack.port('PROMETHEUS_PORT')}",
            "MHFZ_NODE_EXPORTER_TEXTFILE_DIR": str(self.textfile),
            "MHFZ_CONSUMER_METRICS_ADDR": f"127.0.0.1:{self.stack.port('CONSUMER_METRICS_PORT')}",
        }

    def write_config(self):
        config = Path(debian_paths(self.dir, self.pg_password_file)["_prometheus_config_dir"]) / "prometheus.yml"
        procs.write_atomically(config, self.role().render_template("prometheus.yml.j2", str(config)))
        check = subprocess.run([self.role().var("_prometheus_promtool"), "check", "config", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise StackError(f"promtool rejects {config}:\n{check.stdout}{check.stderr}")
        return config

    def pg_login(self):
        """postgres_exporter's login role (pg_monitor, nothing more), with a password of its own,
        created once and reset at every start. Both passwords reach psql on stdin and in its
        environment, never on a command line (readable by anyone in /proc)."""
        user = self.role("postgres_exporter").var("postgres_exporter_pg_user")
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
            env=pg.psql_env(),
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

    def prepare(self, name):
        """What a daemon needs before it starts: cAdvisor the role's install layout (the binary built
        once into the cache), postgres_exporter its password (and its login when pg runs)."""
        if name == "cadvisor":
            procs.link(self.cadvisor_install / "bin/cadvisor", cadvisor.ensure(self.stack.repo, self.stack.cache))
        if name == "postgres_exporter":
            if not self.pg_password_file.is_file():
                procs.write_atomically(self.pg_password_file, secrets.token_hex(24), 0o600)
            if self.stack.selects("pg"):
                self.pg_login()

    def start(self):
        missing = [self.role(name).var(f"_{name}_package") for name in DAEMONS
                   if name != "cadvisor" and not Path(self.role(name).var(f"_{name}_binary")).exists()]
        if missing:
            self.stack.apt_install("Prometheus and its exporters", missing)
        self.textfile.mkdir(parents=True, exist_ok=True)
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        self.write_config()
        started = time.monotonic()
        for name in DAEMONS:
            pid = self.owned_pid(self.pidfile(name))
            if pid and name == "prometheus":
                # A running server reads the configuration again (new ports, services or rules).
                os.kill(pid, signal.SIGHUP)
            if pid:
                continue
            self.prepare(name)
            env, argv = self.command(name)
            # A command line naming nothing of the state dir (postgres_exporter's): its argv[0] does.
            argv0 = None if str(self.stack.state) in " ".join(argv) else str(self.dir / name)
            self.start_daemon(name, argv, self.url(name), env=env, argv0=argv0)
        p = self.stack.port
        note(f"monitoring running on 127.0.0.1: Prometheus {p('PROMETHEUS_PORT')}, node_exporter "
             f"{p('NODE_EXPORTER_PORT')}, cAdvisor {p('CADVISOR_PORT')}, postgres_exporter {p('PG_EXPORTER_PORT')} "
             f"({time.monotonic() - started:.0f} s)")

    def stop(self):
        for name in reversed(DAEMONS):
            pid = self.owned_pid(self.pidfile(name))
            if pid:
                procs.terminate(name, pid, self.stack.stop_timeout)
            self.pidfile(name).unlink(missing_ok=True)

    def status(self):
        up, down = [], []
        for name in DAEMONS:
            pid = self.owned_pid(self.pidfile(name))
            (up if pid else down).append(f"{name} {pid}" if pid else name)
        port = self.stack.ports.get("PROMETHEUS_PORT")
        if not down and port and procs.port_in_use(port):
            return True, f"monitoring: running (pid {','.join(up)}) on 127.0.0.1:{port} (Prometheus)"
        return False, f"monitoring: stopped (not running: {' '.join(down)})" if up else "monitoring: stopped"
