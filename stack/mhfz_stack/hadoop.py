"""Apache Hadoop: HDFS (NameNode, DataNode, WebHDFS) and YARN (ResourceManager, NodeManager,
MapReduce JobHistoryServer), one JVM per daemon, on the Maven Central jars of stack/hadoop/pom.xml,
configured and started as the hadoop role does it: the *-site.xml files, log4j.properties and
hadoop.env from the role's templates and defaults, the NameNode formatted by the role's command,
each daemon's command line from the role's unit. The client variables are those of hadoop.env."""

import json
import os
import re
import subprocess
import time
import urllib.request

from . import jars, procs
from .errors import StackError, note
from .render import parse_env_file
from .service import Service

HADOOP_PORTS = (
    "HDFS_NAMENODE_PORT", "HDFS_NAMENODE_HTTP_PORT", "HDFS_DATANODE_PORT", "HDFS_DATANODE_HTTP_PORT",
    "HDFS_DATANODE_IPC_PORT", "YARN_RM_PORT", "YARN_RM_SCHEDULER_PORT", "YARN_RM_TRACKER_PORT",
    "YARN_RM_ADMIN_PORT", "YARN_RM_WEB_PORT", "YARN_NM_PORT", "YARN_NM_LOCALIZER_PORT", "YARN_NM_WEB_PORT",
    "MR_SHUFFLE_PORT", "MR_HISTORY_PORT", "MR_HISTORY_WEB_PORT", "MR_HISTORY_ADMIN_PORT",
)
JMX_PORTS = {
    "namenode": "JMX_NAMENODE_PORT", "datanode": "JMX_DATANODE_PORT", "resourcemanager": "JMX_RESOURCEMANAGER_PORT",
    "nodemanager": "JMX_NODEMANAGER_PORT", "historyserver": "JMX_HISTORYSERVER_PORT",
}


def overrides(stack, directory, install_dir):
    """The stack's overrides of the hadoop role's defaults: loopback addresses (the role binds
    0.0.0.0), every port (the role leaves some at Hadoop's fixed defaults), paths, and the one user
    every daemon runs as. Three single-node settings follow, marked."""
    p = stack.port
    local = lambda name: f"127.0.0.1:{p(name)}"  # noqa: E731
    jmx = stack.jmx_exporter()
    return {
        "hadoop_java_home": stack.java_home(),
        "hadoop_install_dir": str(install_dir),
        "hadoop_conf_dir": str(directory / "conf"),
        "hadoop_data_dir": str(directory),
        "hadoop_log_dir": str(directory / "logs"),
        "hadoop_hdfs_user": stack.user,
        "hadoop_yarn_user": stack.user,
        "hadoop_mapred_user": stack.user,
        "hadoop_group": stack.group,
        "hadoop_namenode_host": "127.0.0.1",
        "hadoop_resourcemanager_host": "127.0.0.1",
        "hadoop_namenode_rpc_port": p("HDFS_NAMENODE_PORT"),
        "hadoop_namenode_http_port": p("HDFS_NAMENODE_HTTP_PORT"),
        "hadoop_resourcemanager_port": p("YARN_RM_PORT"),
        "hadoop_resourcemanager_web_port": p("YARN_RM_WEB_PORT"),
        "hadoop_historyserver_port": p("MR_HISTORY_PORT"),
        "hadoop_historyserver_web_port": p("MR_HISTORY_WEB_PORT"),
        "hadoop_core_site_extra": {"hadoop.tmp.dir": str(directory / "tmp")},
        "hadoop_hdfs_site_extra": {
            "dfs.namenode.rpc-bind-host": "127.0.0.1",
            "dfs.namenode.http-bind-host": "127.0.0.1",
            "dfs.namenode.servicerpc-bind-host": "127.0.0.1",
            "dfs.datanode.address": local("HDFS_DATANODE_PORT"),
            "dfs.datanode.http.address": local("HDFS_DATANODE_HTTP_PORT"),
            "dfs.datanode.ipc.address": local("HDFS_DATANODE_IPC_PORT"),
            "dfs.datanode.hostname": "127.0.0.1",
            # Single node: leave safe mode as soon as the one DataNode reports (no 30 s extension).
            "dfs.namenode.safemode.extension": 0,
        },
        "hadoop_yarn_site_extra": {
            "yarn.resourcemanager.bind-host": "127.0.0.1",
            "yarn.resourcemanager.scheduler.address": local("YARN_RM_SCHEDULER_PORT"),
            "yarn.resourcemanager.resource-tracker.address": local("YARN_RM_TRACKER_PORT"),
            "yarn.resourcemanager.admin.address": local("YARN_RM_ADMIN_PORT"),
            "yarn.nodemanager.bind-host": "127.0.0.1",
            "yarn.nodemanager.hostname": "127.0.0.1",
            "yarn.nodemanager.address": local("YARN_NM_PORT"),
            "yarn.nodemanager.localizer.address": local("YARN_NM_LOCALIZER_PORT"),
            "yarn.nodemanager.webapp.address": local("YARN_NM_WEB_PORT"),
        },
        "hadoop_mapred_site_extra": {
            "mapreduce.shuffle.port": p("MR_SHUFFLE_PORT"),
            "mapreduce.jobhistory.bind-host": "127.0.0.1",
            "mapreduce.jobhistory.admin.address": local("MR_HISTORY_ADMIN_PORT"),
        },
        # Single node: the role's 20 % of one NodeManager is less than one ApplicationMaster.
        "hadoop_capacity_scheduler_extra": {"yarn.scheduler.capacity.maximum-am-resource-percent": 0.5},
        "hadoop_jmx_exporter_enabled": jmx is not None,
        "hadoop_jmx_exporter_address": "127.0.0.1",
        "hadoop_jmx_exporter_port": {daemon: stack.ports.get(name, 0) for daemon, name in JMX_PORTS.items()},
        "hadoop_jmx_exporter_dir": str(jmx.parent) if jmx else "",
    }


class Hadoop(Service):
    name = "hadoop"
    ports = HADOOP_PORTS

    def __init__(self, stack):
        super().__init__(stack)
        self.maven = jars.cache_for(stack.repo, stack.cache, "hadoop")
        self.src = self.maven.pom_dir
        self.version = self.maven.version
        self.jars = self.maven.jars
        self.install = self.dir / "install"

    def role(self):
        return self.stack.role(
            "hadoop", ["hadoop", "hadoop_namenode", "hadoop_datanode", "yarn_resourcemanager", "yarn_nodemanager",
                       "hadoop_client"],
            overrides(self.stack, self.dir, self.install),
        )

    def daemons(self):
        """The role's daemons, in start order (stopped in reverse): {name: {class, user, layer}}."""
        return self.role().var("_hadoop_daemons")

    def pidfile(self, daemon):
        return self.dir / f"{daemon}.pid"

    def env(self):
        """The role's hadoop.env (the MHFZ_* names are the stack's), and the HDFS user."""
        env = parse_env_file(self.role().render_template("hadoop.env.j2"))
        return {**{k: v for k, v in env.items() if k.startswith("MHFZ_")}, "MHFZ_HDFS_USER": self.stack.user}

    def configure(self):
        role = self.role()
        procs.link(self.install / "lib", self.jars)
        # The HDFS web app directories the Maven Central jars lack (the NameNode and DataNode
        # refuse to start without them); the role's artifact carries the same directory.
        procs.link(self.install / "web", self.src / "web")
        for key in ("local-dirs", "log-dirs"):
            os.makedirs(role.var("hadoop_yarn_site")[f"yarn.nodemanager.{key}"], exist_ok=True)
        (self.dir / "logs" / self.stack.user).mkdir(parents=True, exist_ok=True)
        role.render_config("configure.yml", self.dir / "conf")
        return role

    def format_namenode(self, role):
        """Formatted once, by the role's command, while the name dir has no current/VERSION."""
        name_dir = role.var("_hadoop_name_dir").strip()
        if os.path.exists(f"{name_dir}/current/VERSION"):
            return
        argv = role.task_argv("format.yml", "Format the NameNode's metadata directory")
        argv = self.stack.jvm(argv, self.dir / "tmp")
        log = self.dir / "logs/format.log"
        with open(log, "w") as out:
            result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=self.dir)
        if result.returncode != 0:
            raise StackError(f"formatting the HDFS NameNode in {name_dir} failed\n{procs.tail(log)}")

    def log_tail(self, names):
        pattern = re.compile(r"ERROR|FATAL|Exception|^\s+at |Caused by")
        logs = self.dir / "logs" / self.stack.user
        return "\n".join(
            procs.tail(path, 10, pattern) for name in names
            for path in (logs / f"{name}.log", self.dir / "logs" / f"{name}.out") if path.exists()
        )

    def spawn(self, role, names):
        """Starts the daemons among names not running yet; returns the pids of all of them."""
        pids = []
        daemons = self.daemons()
        for name in names:
            pid = self.owned_pid(self.pidfile(name))
            if not pid:
                env, argv = role.unit_command("hadoop-daemon.service.j2", item=name, _daemon=daemons[name])
                workdir = f"{role.var('hadoop_data_dir')}/{daemons[name]['user']}"
                procs.spawn(self.stack.jvm(argv, self.dir / "tmp"), self.pidfile(name),
                            self.dir / "logs" / f"{name}.out", workdir, env={**self.stack.base_env(), **env})
                pid = self.owned_pid(self.pidfile(name))
                if not pid:
                    raise StackError(f"hadoop {name} did not start\n{self.log_tail([name])}")
            pids.append(pid)
        return pids

    def start(self):
        daemons = list(self.daemons())
        running = [name for name in daemons if self.owned_pid(self.pidfile(name))]
        if len(running) == len(daemons):
            note(f"hadoop already running on 127.0.0.1: HDFS {self.stack.port('HDFS_NAMENODE_PORT')}, "
                 f"YARN {self.stack.port('YARN_RM_PORT')}")
            return
        self.stack.java_home()
        if any(" " in str(path) for path in (self.stack.state, self.stack.cache)):
            raise StackError(f"Hadoop needs state and cache paths without spaces ({self.stack.state}, {self.stack.cache})")
        self.maven.ensure()
        if not running:
            self.stack.check_ports_free(self.ports)
        role = self.configure()
        self.format_namenode(role)
        started = time.monotonic()
        hdfs = [name for name, d in self.daemons().items() if d["layer"] == "hdfs"]
        yarn = [name for name, d in self.daemons().items() if d["layer"] == "yarn"]
        pids = self.spawn(role, hdfs)
        self.wait("HDFS", hdfs, pids, lambda: hdfs_waiting(self.stack.port("HDFS_NAMENODE_HTTP_PORT")))
        # YARN and the history server come after HDFS: the history server creates its directories there.
        pids = self.spawn(role, yarn)
        self.wait("YARN", yarn, pids,
                  lambda: yarn_waiting(self.stack.port("YARN_RM_WEB_PORT"), self.stack.port("MR_HISTORY_WEB_PORT")))
        note(f"hadoop {self.version} running on 127.0.0.1: HDFS {self.stack.port('HDFS_NAMENODE_PORT')}, "
             f"WebHDFS {self.stack.port('HDFS_NAMENODE_HTTP_PORT')}, YARN {self.stack.port('YARN_RM_PORT')} "
             f"({time.monotonic() - started:.0f} s)")

    def wait(self, what, names, pids, check):
        """Until check() says nothing is missing; fails when a daemon dies or the timeout passes."""
        deadline = time.monotonic() + self.stack.start_timeout
        waiting = "no answer yet"
        while True:
            dead = [pid for pid in pids if not procs.alive(pid)]
            if dead or time.monotonic() > deadline:
                reason = f"process {dead[0]} ended while {waiting}" if dead else f"timed out: {waiting}"
                tail = self.log_tail(names)
                self.stop()
                raise StackError(f"{what} did not become ready ({reason})\n{tail}\n(logs in {self.dir / 'logs'})")
            try:
                waiting = check()
            except (OSError, ValueError, KeyError, IndexError) as error:
                waiting = f"no answer yet ({error})"
            if waiting is None:
                return
            time.sleep(0.5)

    def stop(self):
        if not self.dir.is_dir():
            return  # never started here (no need to load the role)
        for name in reversed(list(self.daemons())):
            pid = self.owned_pid(self.pidfile(name))
            if pid:
                # SIGTERM: each daemon's shutdown hook stops its services (the NodeManager its containers).
                procs.terminate(f"hadoop {name}", pid, self.stack.stop_timeout)
            self.pidfile(name).unlink(missing_ok=True)
        # Whatever a container left (a task's child process) still works inside the NodeManager's dirs.
        local_dirs = self.role().var("hadoop_yarn_site")["yarn.nodemanager.local-dirs"]
        for pid in procs.processes_working_in(local_dirs):
            note(f"leftover YARN container process {pid} ({procs.cmdline(pid)[:100]}): SIGKILL")
            procs.kill(pid)

    def status(self):
        up, down = [], []
        for name in self.daemons():
            pid = self.owned_pid(self.pidfile(name))
            (up if pid else down).append(f"{name} {pid}" if pid else name)
        hdfs, rm = self.stack.ports.get("HDFS_NAMENODE_PORT"), self.stack.ports.get("YARN_RM_PORT")
        if not down and hdfs and procs.port_in_use(hdfs) and procs.port_in_use(rm):
            return True, f"hadoop: running (pid {','.join(up)}) on 127.0.0.1:{hdfs} (HDFS), :{rm} (YARN)"
        return False, f"hadoop: stopped (not running: {' '.join(down)})" if up else "hadoop: stopped"


# --- readiness, through the daemons' own HTTP APIs


def get_json(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.load(response)


def jmx(port, query):
    beans = get_json(port, f"/jmx?qry={query}")["beans"]
    return beans[0] if beans else {}


def hdfs_waiting(port):
    """What HDFS still lacks (an active NameNode out of safe mode, a live DataNode with free
    space), or None when ready."""
    info = jmx(port, "Hadoop:service=NameNode,name=NameNodeStatus")
    if info.get("State") != "active":
        return f"NameNode state {info.get('State')!r}"
    system = jmx(port, "Hadoop:service=NameNode,name=FSNamesystemState")
    if system.get("NumLiveDataNodes", 0) < 1:
        return "no live DataNode"
    if system.get("CapacityRemaining", 0) <= 0:
        return "the DataNode reports no free space"
    safe_mode = jmx(port, "Hadoop:service=NameNode,name=NameNodeInfo").get("Safemode")
    if safe_mode:
        return f"NameNode in safe mode: {safe_mode}"
    return None


def yarn_waiting(rm_port, history_port):
    """What YARN still lacks (a started ResourceManager with a healthy NodeManager, an answering
    history server), or None when ready."""
    cluster = get_json(rm_port, "/ws/v1/cluster/info")["clusterInfo"]
    if cluster.get("state") != "STARTED":
        return f"ResourceManager state {cluster.get('state')!r}"
    metrics = get_json(rm_port, "/ws/v1/cluster/metrics")["clusterMetrics"]
    if metrics.get("activeNodes", 0) < 1:
        return "no healthy NodeManager registered"
    if metrics.get("totalMB", 0) <= 0:
        return "the NodeManager offers no memory"
    get_json(history_port, "/ws/v1/history/info")
    return None
