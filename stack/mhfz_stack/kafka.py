"""Apache Kafka: one KRaft node, broker and controller in one JVM, on the Maven Central jars of
stack/kafka/pom.xml, configured and started exactly as the kafka role configures and starts it:
server.properties, log4j2.properties and tools-log4j2.properties from the role's templates, the
storage formatted by the role's own command, the JVM's command line from the role's unit."""

import subprocess

from . import jars, procs
from .errors import StackError, note
from .service import Service


def overrides(stack, directory, install_dir):
    """The stack's overrides of the kafka role's defaults: loopback address, ports, paths."""
    jmx = stack.jmx_exporter()
    return {
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

    def role(self):
        return self.stack.role(
            "kafka", ["kafka", "kafka_controller", "kafka_broker"],
            overrides(self.stack, self.dir, self.install), fact_files=["preflight.yml", "identity.yml"],
        )

    def env(self):
        return {
            "MHFZ_KAFKA_BOOTSTRAP": f"127.0.0.1:{self.stack.port('KAFKA_PORT')}",
            "MHFZ_KAFKA_CLASSPATH": self.tools_classpath,
        }

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
                 str(self.src / "Ready.java"), f"127.0.0.1:{port}", str(pid), str(self.stack.start_timeout)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        if ready.returncode != 0:
            tail = self.log_tail() + "\n" + procs.tail(self.dir / "logs/ready.log", 5)
            self.stop()
            raise StackError(f"kafka did not become ready on 127.0.0.1:{port} within {self.stack.start_timeout}s\n{tail}")
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

