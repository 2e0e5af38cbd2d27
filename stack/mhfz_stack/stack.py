"""The stack: its settings, state dir, ports and services, and the commands over them."""

import getpass
import grp
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from . import hadoop, hive, jars, kafka, monitoring, pg, pki, procs, state
from .errors import StackError, note
from .render import Role

# Every service, by name; DEFAULT_SERVICES start when MHFZ_STACK_SERVICES is unset. A service being
# developed is tried by naming it in MHFZ_STACK_SERVICES, and joins DEFAULT_SERVICES once it works.
SERVICES = {
    "pg": pg.Postgres,
    "kafka": kafka.Kafka,
    "hadoop": hadoop.Hadoop,
    "hive": hive.Hive,
    "monitoring": monitoring.Monitoring,
}
DEFAULT_SERVICES = ["pg", "kafka", "hadoop", "hive"]
REPO = Path(__file__).resolve().parents[2]


def cache_dir(environ):
    """$MHFZ_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/mhfz-pipeline: jars, Go's caches, artifacts."""
    home = Path(environ.get("HOME", "~")).expanduser()
    return Path(environ.get("MHFZ_CACHE_DIR")
                or Path(environ.get("XDG_CACHE_HOME") or home / ".cache") / "mhfz-pipeline").absolute()


def select_services(setting):
    """(selected, known): the services to start, in the order given, and those plus the default
    ones (status reports them, stop stops them)."""
    selected = setting.split() if setting and setting.strip() else list(DEFAULT_SERVICES)
    for name in selected:
        if name not in SERVICES:
            raise StackError(f"MHFZ_STACK_SERVICES names '{name}', which is not one of {' '.join(SERVICES)}")
    known = list(DEFAULT_SERVICES) + [name for name in selected if name not in DEFAULT_SERVICES]
    return selected, known


class Stack:
    def __init__(self, repo, environ, create=False):
        home = Path(environ.get("HOME", "~")).expanduser()
        self.repo = Path(repo)
        default_state = Path(environ.get("XDG_STATE_HOME") or home / ".local/state") / "mhfz-pipeline/stack"
        self.state = Path(environ.get("MHFZ_STACK_DIR") or default_state).absolute()
        self.cache = cache_dir(environ)
        self.start_timeout = int(environ.get("MHFZ_STACK_START_TIMEOUT", 120))
        self.stop_timeout = int(environ.get("MHFZ_STACK_STOP_TIMEOUT", 30))
        java_home = environ.get("JAVA_HOME")
        self.java = str(Path(java_home) / "bin/java") if java_home else "java"
        self.selected, self.known = select_services(environ.get("MHFZ_STACK_SERVICES", ""))
        if create:
            self.state.mkdir(parents=True, exist_ok=True)
            self.state.chmod(0o755)
        # Canonical, because process command lines are matched against it.
        if self.state.is_dir():
            self.state = self.state.resolve()
        if (self.state / "ports").exists() and not (self.state / "ports.json").exists():
            self._remove_shell_stack_state()
        self.user = getpass.getuser()
        self.group = grp.getgrgid(os.getgid()).gr_name
        self.ports = {}
        self.services = {name: SERVICES[name](self) for name in self.known}
        self._roles = {}
        self._java_home = None

    def _remove_shell_stack_state(self):
        """A state dir of the former shell stack is refused while its daemons run, else removed:
        it holds nothing but scratch data and would otherwise stop every later start."""
        if procs.stack_pids(self.state):
            raise StackError(f"{self.state} was written by the former shell stack, whose daemons still run: "
                             "stop them (scripts/stack stop of that version) and remove it")
        note(f"removing {self.state}, left by the former shell stack (nothing of it runs)")
        shutil.rmtree(self.state)
        self.state.mkdir(parents=True)
        self.state.chmod(0o755)

    # --- helpers for the services

    def selects(self, name):
        return name in self.selected

    def port(self, name):
        return self.ports[name]

    def role(self, name, groups, host_vars, fact_files=(), key=None):
        """The role as the stack renders it (once per run of the supervisor; key: a second
        rendering of it with other host variables)."""
        key = key or name
        if key not in self._roles:
            self._roles[key] = Role(self.repo, self.state / "ansible", name, groups, host_vars, fact_files)
        return self._roles[key]

    def java_home(self):
        """JAVA_HOME of the java the stack runs (Java 17 or newer), checked once."""
        if self._java_home is None:
            java = shutil.which(self.java)
            if java is None:
                raise StackError("java not found (Java 17 or newer is needed; set JAVA_HOME)")
            version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
            match = re.search(r'version "(\d+)', version)
            if not match or int(match.group(1)) < 17:
                raise StackError(f"{java} is not Java 17 or newer (set JAVA_HOME): {version.strip()}")
            self._java_home = str(Path(java).resolve().parent.parent)
        return self._java_home

    def jmx_exporter(self):
        """The Prometheus JMX exporter agent's jar while the monitoring service is selected (the
        roles then turn their agents on), else None. The roles' artifact: the same pom, the same
        cached jar (scripts/artifacts)."""
        if not self.selects("monitoring"):
            return None
        cached = jars.cache_for(self.repo, self.cache, "jmx-exporter")
        return cached.ensure() / f"jmx_prometheus_javaagent-{cached.version}.jar"

    def jvm(self, argv, tmp):
        """A role's java command line with what its unit's PrivateTmp=yes gives it: temporary files
        under the state dir (tmp), and no /tmp/hsperfdata_<user>."""
        Path(tmp).mkdir(parents=True, exist_ok=True)
        return [argv[0], f"-Djava.io.tmpdir={tmp}", "-XX:-UsePerfData", *argv[1:]]

    def base_env(self):
        """The environment of the stack's daemons: the caller's, without the stack's own variables."""
        return {k: v for k, v in os.environ.items() if not k.startswith("MHFZ_")}

    def apt_install(self, what, packages):
        """Install Debian packages when root, else say which are needed."""
        if os.geteuid() != 0:
            raise StackError(f"{what} is missing; install the Debian package(s): {' '.join(packages)}")
        note(f"installing Debian package(s) {' '.join(packages)} for {what}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
        for command in (["apt-get", "update", "-qq"], install):
            if subprocess.run(command, env=env, stdout=sys.stderr).returncode != 0:
                raise StackError(f"{' '.join(command)} failed")

    def check_ports_free(self, names):
        for name in names:
            if procs.port_in_use(self.ports[name]):
                raise StackError(
                    f"port {self.ports[name]} ({name}) on 127.0.0.1 is taken by another process; stop it, "
                    f"or remove {self.state / 'ports.json'} to pick new ports"
                )

    # --- commands

    def lock(self):
        lock = state.Lock(self.state / "lock")
        lock.acquire()
        return lock

    def load_ports(self, assign):
        path = self.state / "ports.json"
        if assign:
            names = [name for service in self.services.values() for name in service.ports]
            self.ports = state.assign_ports(path, names)
        else:
            self.ports = state.load_json(path, "new ports are picked") or {}
        return bool(self.ports)

    def environment(self):
        env = {"MHFZ_STACK_DIR": str(self.state)}
        for name in self.selected:
            env.update(self.services[name].env())
        return env

    def start(self):
        """Start every selected service (those running: nothing to do); a failure stops everything."""
        self.load_ports(assign=True)
        env = self.environment()
        procs.write_atomically(self.state / "env.json", json.dumps(env, indent=2) + "\n")
        try:
            # One run of the pki role for every certificate the services need.
            pki.ensure_certificates(self, [c for name in self.selected for c in self.services[name].certificates()])
            for name in self.selected:
                self.services[name].start()
        except BaseException:
            self.stop()
            raise

    def stop(self):
        """Stop every known service, selected or not, then end whatever process of the stack is left."""
        if not self.ports:
            self.load_ports(assign=False)
        # Signals wait until the stack is down: an interrupted stop would leave processes behind.
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for name in reversed(self.known):
                try:
                    self.services[name].stop()
                except StackError as error:
                    note(f"stopping {name}: {error}")
            for pid in procs.stack_pids(self.state):
                note(f"leftover process {pid} ({procs.cmdline(pid)[:120]}): SIGKILL")
                procs.kill(pid)
                if not procs.wait_gone(pid, 10):
                    note(f"process {pid} survived SIGKILL")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def status(self):
        """One line per known service; False when a selected one is down."""
        started = self.load_ports(assign=False)
        ok = True
        for name in self.known:
            running, line = self.services[name].status() if started else (False, f"{name}: stopped")
            print(line)
            ok = ok and (running or name not in self.selected)
        print(f"state: {self.state}" + ("" if started else " (never started)"))
        return ok and started

    def env_lines(self):
        env = state.load_json(self.state / "env.json", "start the stack again")
        if env is None:
            raise StackError(f"no {self.state / 'env.json'}: run scripts/stack start first")
        return state.export_lines(env)
