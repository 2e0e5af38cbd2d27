"""Apache Hive: HiveServer2 on the Maven Central jars of stack/hive/pom.xml, configured and started
as the hive role does it (hive-site.xml from the role's template and its hive_site defaults, the
logging configurations, the JVM's command line from the role's unit, beeline from the role's
script), with one difference: the metastore is embedded in HiveServer2, on an embedded Derby
database (no metastore service, no schema tool: DataNucleus creates the schema at the first
start), where the role runs the standalone metastore on PostgreSQL. The warehouse is on the
stack's HDFS when the hadoop service is selected (it starts first), else under the state dir."""

import re
import subprocess
import time

from . import jars, procs
from .errors import StackError, note
from .service import Service


def overrides(stack, directory, install_dir, hadoop_conf_dir):
    """The stack's overrides of the hive role's defaults: loopback address, port, paths."""
    jmx = stack.jmx_exporter()
    return {
        "hive_java_home": stack.java_home(),
        "hive_install_dir": str(install_dir),
        "hive_conf_dir": str(directory / "conf"),
        "hive_data_dir": str(directory),
        "hive_log_dir": str(directory / "logs"),
        "hive_hadoop_conf_dir": str(hadoop_conf_dir),
        "hive_host": "127.0.0.1",
        "hive_server2_bind_host": "127.0.0.1",
        "hive_server2_port": stack.port("HIVE_PORT"),
        "hive_jmx_exporter_enabled": jmx is not None,
        "hive_jmx_exporter_address": "127.0.0.1",
        # The embedded metastore lives in HiveServer2's JVM: one agent serves both.
        "hive_jmx_exporter_port": {"hiveserver2": stack.ports.get("JMX_HIVE_PORT", 0),
                                   "metastore": stack.ports.get("JMX_HIVE_PORT", 0)},
        "hive_jmx_exporter_dir": str(jmx.parent) if jmx else "",
    }


def embedded_metastore(directory, warehouse):
    """hive-site.xml settings of the embedded metastore on Derby (instead of the role's
    connection to the standalone metastore and its PostgreSQL database), and the paths the role
    leaves at Hive's defaults under /tmp."""
    return {
        "hive.metastore.uris": "",
        "javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={directory / 'metastore_db'};create=true",
        "javax.jdo.option.ConnectionDriverName": "org.apache.derby.jdbc.EmbeddedDriver",
        "hive.metastore.schema.verification": False,
        "datanucleus.schema.autoCreateAll": True,
        "hive.metastore.warehouse.dir": warehouse,
        "hive.metastore.warehouse.external.dir": f"{warehouse}/external",
        "hive.exec.scratchdir": str(directory / "scratch"),
        "mapreduce.jobtracker.staging.root.dir": str(directory / "mapred-staging"),
        "hive.query.results.cache.directory": f"file://{directory / 'results-cache'}",
    }


class Hive(Service):
    name = "hive"
    ports = ("HIVE_PORT",)

    def __init__(self, stack):
        super().__init__(stack)
        self.maven = jars.cache_for(stack.repo, stack.cache, "hive")
        self.version = self.maven.version
        self.jars = self.maven.jars
        self.install = self.dir / "install"
        self.pidfile = self.dir / "hiveserver2.pid"
        self.beeline = self.dir / "bin/beeline"

    def hadoop(self):
        return self.stack.services["hadoop"] if self.stack.selects("hadoop") else None

    def role(self):
        hadoop = self.hadoop()
        hadoop_conf = hadoop.dir / "conf" if hadoop else self.dir / "no-hadoop-conf"
        return self.stack.role("hive", ["hive"], overrides(self.stack, self.dir, self.install, hadoop_conf))

    def warehouse(self):
        hadoop = self.hadoop()
        if hadoop:
            return hadoop.env()["MHFZ_HDFS_URI"] + self.role().var("hive_warehouse_dir")
        return f"file://{self.dir / 'warehouse'}"

    def env(self):
        return {
            "MHFZ_HIVE_VERSION": self.version,
            "MHFZ_HIVE_JDBC_URL": f"jdbc:hive2://127.0.0.1:{self.stack.port('HIVE_PORT')}/default",
            "MHFZ_BEELINE": str(self.beeline),
            "MHFZ_HIVE_WAREHOUSE": self.warehouse(),
        }

    def configure(self):
        role = self.role()
        for sub in ("logs", "tmp", "bin", "beeline-home"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        procs.link(self.install / "lib", self.jars)
        site = {**role.var("hive_site"), **role.var("hive_site_extra"), **embedded_metastore(self.dir, self.warehouse())}
        written = role.render_config("configure.yml", self.dir / "conf", _hive_site=site)
        if "hive-site.xml" not in written:
            raise StackError("the hive role no longer writes hive-site.xml into its configuration directory")
        # The role's beeline, with its history under the state dir.
        procs.write_atomically(self.dir / "bin/beeline.role", role.render_template("beeline.sh.j2"), 0o755)
        procs.write_atomically(self.beeline, (
            "#!/bin/sh\n# Written by scripts/stack: the role's beeline, its history under the state dir.\n"
            f'BEELINE_HOME="${{BEELINE_HOME:-{self.dir / "beeline-home"}}}" exec {self.dir / "bin/beeline.role"} "$@"\n'
        ), 0o755)
        return role

    def log_tail(self):
        pattern = re.compile(r"ERROR|FATAL|Caused by")
        return "\n".join(procs.tail(p, 15, pattern) for p in (self.dir / "logs/hiveserver2.log", self.dir / "hiveserver2.out")
                         if p.exists())

    def wait_ready(self, pid):
        """Ready means beeline gets an answer through the Thrift port (the metastore included)."""
        port = self.stack.port("HIVE_PORT")
        deadline = time.monotonic() + self.stack.start_timeout
        while not procs.port_in_use(port):
            if not procs.alive(pid) or time.monotonic() > deadline:
                return False
            time.sleep(0.5)
        while True:
            with open(self.dir / "logs/ready.out", "w") as out:
                answer = subprocess.run(
                    [str(self.beeline), "-u", f"jdbc:hive2://127.0.0.1:{port}/default", "-n", self.stack.user,
                     "--silent=true", "-e", "SHOW DATABASES;"],
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            if answer.returncode == 0 and "default" in (self.dir / "logs/ready.out").read_text():
                return True
            if not procs.alive(pid) or time.monotonic() > deadline:
                return False
            time.sleep(1)

    def start(self):
        port = self.stack.port("HIVE_PORT")
        pid = self.owned_pid(self.pidfile)
        if pid:
            note(f"hive already running (pid {pid}) on 127.0.0.1:{port}")
            return
        self.stack.java_home()
        self.maven.ensure()
        self.stack.check_ports_free(self.ports)
        started = time.monotonic()
        role = self.configure()
        services = role.var("_hive_services")
        env, argv = role.unit_command("hive.service.j2", item={"key": "hiveserver2", "value": services["hiveserver2"]})
        pid = procs.spawn(self.stack.jvm(argv, self.dir / "tmp"), self.pidfile, self.dir / "hiveserver2.out",
                          self.dir, env={**self.stack.base_env(), **env})
        if not self.wait_ready(pid):
            tail = self.log_tail() + "\n" + procs.tail(self.dir / "logs/ready.out", 10)
            self.stop()
            raise StackError(f"hive did not answer beeline on 127.0.0.1:{port} within {self.stack.start_timeout}s\n{tail}")
        note(f"hive {self.version} (HiveServer2) running (pid {pid}) on 127.0.0.1:{port}, "
             f"warehouse {self.warehouse()} ({time.monotonic() - started:.0f} s)")

    def stop(self):
        pid = self.owned_pid(self.pidfile)
        if pid:
            # SIGTERM: HiveServer2's shutdown hook closes its sessions and the Derby database.
            procs.terminate("hive", pid, self.stack.stop_timeout)
            note("hive stopped")
        self.pidfile.unlink(missing_ok=True)

    def status(self):
        pid = self.owned_pid(self.pidfile)
        port = self.stack.ports.get("HIVE_PORT")
        if pid and port and procs.port_in_use(port):
            return True, f"hive: running (pid {pid}) on 127.0.0.1:{port}"
        return False, "hive: stopped"
