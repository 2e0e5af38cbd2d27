"""Apache Kafka: one KRaft node, broker and controller in one JVM, on the Maven Central jars of
stack/kafka/pom.xml, configured, secured and started exactly as the kafka role does it:
server.properties, the logging and the tools' client settings from the role's templates, its
certificate from the pki role, the storage formatted by the role's own command, the JVM's command
line from the role's unit, and the users and ACLs of ansible/deploy_kafka.yml made by the role's
own tasks (access.yml). Clients log in with SCRAM-SHA-512 over TLS, as on the platform: the
tests as the admin (allowed everything: they make their own topics), and the pipeline's two
logins with exactly their ACLs."""

import hashlib
import json
import secrets
import subprocess

import yaml

from . import jars, pki, playbook, procs, render
from .errors import StackError, note
from .service import Service


def logins(repo):
    """The kafka role's admin, the pipeline's two logins and the consumer's group, as the roles'
    defaults name them: {"admin": user, "scraper": user, "consumer": user}, group."""
    pipeline = render.role_defaults(repo, "mhfz_pipeline")
    users = {"admin": render.role_defaults(repo, "kafka")["kafka_admin_user"]}
    users.update({login: pipeline[f"mhfz_pipeline_kafka_{login}_user"] for login in ("scraper", "consumer")})
    return users, pipeline["mhfz_pipeline_consumer_group"]


def password(stack, login):
    """The stack's password of a login (made once, 0600, no newline)."""
    path = stack.state / f"kafka-{login}-password"
    if not path.is_file() or not path.stat().st_size:
        procs.write_atomically(path, secrets.token_hex(24), mode=0o600)
    return path


def overrides(stack, directory, install_dir):
    """The stack's overrides of the kafka role's defaults: loopback address, ports, paths, the
    stack's certificates and admin password."""
    jmx = stack.jmx_exporter()
    return {
        "pki_host_dir": str(pki.host_dir(stack)),
        "pki_ca_certificate": str(pki.ca_file(stack)),
        "kafka_admin_password": password(stack, "admin").read_text(),
        "java_home": stack.java_home(),
        "kafka_listen_address": "127.0.0.1",
        "kafka_broker_port": stack.port("KAFKA_PORT"),
        "kafka_controller_port": stack.port("KAFKA_CONTROLLER_PORT"),
        "kafka_install_dir": str(install_dir),
        "kafka_config_dir": str(directory / "conf"),
        "kafka_data_dirs": [str(directory / "data")],
        "kafka_log_dir": str(directory / "logs"),
        "kafka_jmx_exporter_enabled": jmx is not None,
        "kafka_jmx_exporter_address": "127.0.0.1",
        "kafka_jmx_exporter_port": stack.ports.get("JMX_KAFKA_PORT", 0),
    }


class Kafka(Service):
    name = "kafka"
    ports = ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT")

    def __init__(self, stack):
        super().__init__(stack)
        self.maven = jars.cache_for(stack.repo, stack.cache, "kafka")
        self.src = self.maven.pom_dir
        self.version = self.maven.version
        self.jars = self.maven.jars
        self.install = self.dir / "install"
        self.pidfile = self.dir / "kafka.pid"
        # The tools find tools-conf/log4j2.properties (the role's tools-log4j2.properties) first on
        # their classpath, and log warnings only.
        self.tools_classpath = f"{self.dir / 'tools-conf'}:{self.jars}/*"
        # The role's admin-client.properties: the tools' login (SASL_SSL as the admin).
        self.client_properties = self.dir / "conf/admin-client.properties"
        # What the users and ACLs were last made from (grant_access).
        self.access_stamp = self.dir / "access.sha256"

    def certificates(self):
        # The node's key is its own (0600): the stack's user runs it. Key and certificate in one
        # file too (the role's PEM key store).
        return [pki.request("kafka", self.stack.user, self.stack.group, key_bundle=True)]

    def role(self):
        return self.stack.role(
            "kafka", ["kafka", "kafka_controller", "kafka_broker"],
            overrides(self.stack, self.dir, self.install), fact_files=["preflight.yml", "identity.yml"],
        )

    def env(self):
        users, group = logins(self.stack.repo)
        pipeline_logins = {}
        for login in ("scraper", "consumer"):
            pipeline_logins[f"MHFZ_KAFKA_{login.upper()}_USER"] = users[login]
            pipeline_logins[f"MHFZ_KAFKA_{login.upper()}_PASSWORD_FILE"] = str(password(self.stack, login))
        return {
            "MHFZ_KAFKA_BOOTSTRAP": f"127.0.0.1:{self.stack.port('KAFKA_PORT')}",
            "MHFZ_KAFKA_CLASSPATH": self.tools_classpath,
            "MHFZ_KAFKA_CA_FILE": str(pki.ca_file(self.stack)),
            "MHFZ_KAFKA_USER": users["admin"],
            "MHFZ_KAFKA_PASSWORD_FILE": str(password(self.stack, "admin")),
            "MHFZ_KAFKA_CLIENT_PROPERTIES": str(self.client_properties),
            "MHFZ_KAFKA_CONSUMER_GROUP": group,
            **pipeline_logins,
        }

    def grant_access(self):
        """The users and ACLs of ansible/deploy_kafka.yml, by the role's own tasks (the stack's
        pipeline logins in place of the inventory's)."""
        users, group = logins(self.stack.repo)
        deploy = yaml.safe_load((self.stack.repo / "ansible/deploy_kafka.yml").read_text())[0]
        play_vars = {k: v for k, v in deploy["vars"].items() if k != "kafka_topics"}
        topics = json.loads((self.stack.repo / "ingest/src/kafka/topics.json").read_text())
        variables = {
            **overrides(self.stack, self.dir, self.install),
            "_kafka_address": "127.0.0.1",
            "_mhfz_platform_topics": topics,
            "mhfz_pipeline_consumer_group": group,
        }
        for login in ("scraper", "consumer"):
            variables[f"mhfz_pipeline_kafka_{login}_user"] = users[login]
            variables[f"mhfz_pipeline_kafka_{login}_password"] = password(self.stack, login).read_text()
        # The role's tasks are idempotent but cost a few JVMs: skip them while nothing they act on
        # changed since they last ran on this storage (formatting removes the stamp).
        digest = hashlib.sha256(json.dumps([variables, play_vars], sort_keys=True).encode())
        for source in ("roles/kafka/tasks/access.yml", "roles/kafka/filter_plugins/kafka.py"):
            digest.update((self.stack.repo / source).read_bytes())
        if self.access_stamp.is_file() and self.access_stamp.read_text() == digest.hexdigest():
            return
        playbook.run_role_tasks(self.stack, "kafka-access", "kafka", "access", variables,
                                groups=["kafka", "kafka_broker", "kafka_controller"], play_vars=play_vars)
        procs.write_atomically(self.access_stamp, digest.hexdigest(), mode=0o600)

    def configure(self):
        """The role's install layout (lib/ = the cached jars, the agent beside it) and its files."""
        for sub in ("data", "logs", "tmp", "tools-conf"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        role = self.role()
        procs.link(self.install / "lib", self.jars)
        jmx = self.stack.jmx_exporter()
        if jmx is not None:
            procs.link(self.dir / f"jmx_prometheus_javaagent-{role.var('kafka_jmx_exporter_version')}.jar", jmx)
        role.render_config("configure.yml", self.dir / "conf")
        procs.link(self.dir / "tools-conf/log4j2.properties", self.dir / "conf/tools-log4j2.properties")
        return role

    def format_storage(self, role):
        """Formatted once, by the role's own command, while data/meta.properties is absent."""
        if (self.dir / "data/meta.properties").exists():
            return
        self.access_stamp.unlink(missing_ok=True)
        argv = role.task_argv("storage.yml", "Format the storage with the cluster id")
        result = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage in {self.dir / 'data'} failed:\n{result.stdout}{result.stderr}")

    def log_tail(self):
        return "\n".join(procs.tail(p) for p in (self.dir / "logs/server.log", self.dir / "kafka.out") if p.exists())

    def start(self):
        port = self.stack.port("KAFKA_PORT")
        pid = self.owned_pid(self.pidfile)
        if pid:
            note(f"kafka already running (pid {pid}) on 127.0.0.1:{port}")
            return
        self.stack.java_home()
        self.maven.ensure()
        self.stack.check_ports_free(self.ports)
        role = self.configure()
        self.format_storage(role)
        env, argv = role.unit_command("kafka.service.j2")
        pid = procs.spawn(self.stack.jvm(argv, self.dir / "tmp"), self.pidfile, self.dir / "kafka.out",
                          self.dir, env={**self.stack.base_env(), **env})
        if not self.owned_pid(self.pidfile):
            raise StackError(f"kafka exited at once\n{self.log_tail()}")
        # Ready means a metadata answer listing a live broker, so topics can be created at once.
        with open(self.dir / "logs/ready.log", "w") as log:
            ready = subprocess.run(
                [self.stack.java, "-Xmx128m", "-XX:-UsePerfData", "-cp", self.tools_classpath,
                 str(self.src / "Ready.java"), f"127.0.0.1:{port}", str(pid), str(self.stack.start_timeout),
                 str(self.client_properties)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        if ready.returncode != 0:
            tail = self.log_tail() + "\n" + procs.tail(self.dir / "logs/ready.log", 5)
            self.stop()
            raise StackError(f"kafka did not become ready on 127.0.0.1:{port} within {self.stack.start_timeout}s\n{tail}")
        try:
            self.grant_access()
        except StackError:
            self.stop()
            raise
        note(f"kafka {self.version} running (pid {pid}) on 127.0.0.1:{port}")

    def stop(self):
        pid = self.owned_pid(self.pidfile)
        if pid:
            # SIGTERM: the broker shuts down in order and flushes its logs.
            procs.terminate("kafka", pid, self.stack.stop_timeout)
            note("kafka stopped")
        self.pidfile.unlink(missing_ok=True)

    def status(self):
        pid = self.owned_pid(self.pidfile)
        port = self.stack.ports.get("KAFKA_PORT")
        if pid and port and procs.port_in_use(port):
            return True, f"kafka: running (pid {pid}) on 127.0.0.1:{port}"
        return False, "kafka: stopped"

