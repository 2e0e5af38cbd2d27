"""The roles' configuration as the stack renders it (ansible-core, the real roles): every address
is loopback and every port one the stack picked, so nothing listens beyond 127.0.0.1 or on a fixed
port another stack (or a deployed service) may hold.
  PYTHONPATH=stack python3 -m unittest discover -s stack/tests     (make lint runs it)"""

import os
import re
import shutil
import stat
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ElementTree
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mhfz_stack import pg  # noqa: E402
from mhfz_stack.errors import StackError  # noqa: E402
from mhfz_stack.stack import Stack  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ADDRESS = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3}|localhost|0\.0\.0\.0)?:(\d{2,5})\b")


class Rendered(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="mhfz-stack-render.")).resolve()
        env = {**os.environ, "MHFZ_STACK_DIR": str(cls.dir / "stack"),
               "MHFZ_STACK_SERVICES": "pg kafka hadoop hive monitoring"}
        cls.stack = Stack(REPO, env, create=True)
        cls.stack.load_ports(assign=True)
        cls.ports = set(cls.stack.ports.values())
        # The JMX agent's jar is not needed to render; the roles only name it.
        cls.stack.jmx_exporter = lambda: cls.dir / "jmx_prometheus_javaagent-1.0.1.jar"

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def assert_local(self, where, text):
        self.assertNotIn("0.0.0.0", text, where)
        for host, port in ADDRESS.findall(text):
            if host:
                self.assertIn(host, ("127.0.0.1", "localhost"), f"{where}: {host}:{port}")
            self.assertIn(int(port), self.ports, f"{where}: port {port} is not one the stack picked")

    def test_kafka(self):
        kafka = self.stack.services["kafka"]
        written = kafka.role().render_config("configure.yml", kafka.dir / "conf")
        self.assertEqual(sorted(written), ["admin-client.properties", "controller-client.properties",
                                           "jmx-exporter.yml", "log4j2.properties", "server.properties",
                                           "tools-log4j2.properties"])
        properties = (kafka.dir / "conf/server.properties").read_text()
        self.assertIn(f"listeners=BROKER://127.0.0.1:{self.stack.port('KAFKA_PORT')},CONTROLLER://127.0.0.1:"
                      f"{self.stack.port('KAFKA_CONTROLLER_PORT')}", properties)
        self.assertIn("auto.create.topics.enable=false", properties)  # the role's, not the stack's
        # The role's security, with the stack's certificate and admin password.
        self.assertIn("listener.security.protocol.map=BROKER:SASL_SSL,CONTROLLER:SSL", properties)
        self.assertIn("allow.everyone.if.no.acl.found=false", properties)
        self.assertIn(f"ssl.keystore.location={self.dir}/stack/pki-host/kafka.pem", properties)
        password = (self.dir / "stack/kafka-admin-password").read_text()
        self.assertIn(f'username="kafka-admin" password="{password}";', properties)
        self.assertEqual(stat.S_IMODE((kafka.dir / "conf/server.properties").stat().st_mode), 0o640)
        admin_client = (kafka.dir / "conf/admin-client.properties").read_text()
        self.assertIn("security.protocol=SASL_SSL", admin_client)
        self.assertIn(f"ssl.truststore.location={self.dir}/stack/pki-host/ca.crt", admin_client)
        self.assert_local("server.properties", properties)
        _, argv = kafka.role().unit_command("kafka.service.j2")
        self.assert_local("kafka's command line", " ".join(argv))
        self.assertIn(f"-javaagent:{kafka.dir}/jmx_prometheus_javaagent-1.0.1.jar=127.0.0.1:"
                      f"{self.stack.port('JMX_KAFKA_PORT')}:", " ".join(argv))

    def test_hadoop(self):
        hadoop = self.stack.services["hadoop"]
        written = hadoop.role().render_config("configure.yml", hadoop.dir / "conf")
        for name in ("core-site.xml", "hdfs-site.xml", "yarn-site.xml", "mapred-site.xml", "capacity-scheduler.xml",
                     "log4j.properties", "hadoop.env"):
            self.assertIn(name, written)
        for name in ("hdfs-site.xml", "yarn-site.xml", "mapred-site.xml", "core-site.xml"):
            for prop in ElementTree.parse(hadoop.dir / "conf" / name).getroot():
                key, value = prop.findtext("name"), prop.findtext("value") or ""
                if key == "mapreduce.shuffle.port":
                    self.assertIn(int(value), self.ports)
                elif "address" in key or "bind-host" in key or key.endswith((".hostname", "defaultFS")):
                    self.assertTrue(value.startswith(("127.0.0.1", "hdfs://127.0.0.1")), f"{name} {key}={value}")
                self.assert_local(f"{name} {key}", value)
                # Local paths (HDFS paths such as /mr-history are not on this machine's disk).
                if value.startswith("file://") or key.endswith(("local-dirs", "log-dirs", "recovery.dir", "tmp.dir")):
                    self.assertIn(str(self.dir), value, f"{name} {key}: outside the state dir")
        env = hadoop.env()
        self.assertEqual(env["MHFZ_HDFS_URI"], f"hdfs://127.0.0.1:{self.stack.port('HDFS_NAMENODE_PORT')}")
        for daemon, d in hadoop.daemons().items():
            _, argv = hadoop.role().unit_command("hadoop-daemon.service.j2", item=daemon, _daemon=d)
            self.assert_local(f"{daemon}'s command line", " ".join(argv))

    def test_hive_and_prometheus(self):
        hive, port = self.stack.services["hive"], self.stack.port
        written = hive.role().render_config("configure.yml", hive.dir / "conf")
        self.assertIn("hive-site.xml", written)
        site = {prop.findtext("name"): prop.findtext("value") for prop in ElementTree.parse(written["hive-site.xml"]).getroot()}
        self.assert_local("hive-site.xml", "\n".join(site.values()))
        self.assertEqual(site["hive.server2.thrift.bind.host"], "127.0.0.1")
        self.assertEqual(site["metastore.thrift.bind.host"], "127.0.0.1")
        self.assertEqual(site["hive.metastore.uris"], f"thrift://127.0.0.1:{port('HIVE_METASTORE_PORT')}")
        # Over TLS, verified against the stack's CA.
        ca = self.stack.state / "pki-host/ca.crt"
        self.assertEqual(site["javax.jdo.option.ConnectionURL"],
                         f"jdbc:postgresql://127.0.0.1:{port('PG_PORT')}/metastore?sslmode=verify-full&sslrootcert={ca}")
        self.assertEqual(site["javax.jdo.option.ConnectionPassword"], hive.db_password())
        self.assertEqual(hive.db_password_file.stat().st_mode & 0o777, 0o600)
        self.assertEqual(written["hive-site.xml"].stat().st_mode & 0o777, 0o640)
        # HiveServer2 over TLS with the stack's key store, and beeline (the tests' URL) verifying it.
        self.assertEqual(site["hive.server2.use.SSL"], "true")
        self.assertEqual(site["hive.server2.keystore.path"], str(self.stack.state / "pki-host/hive.p12"))
        self.assertEqual(site["hive.server2.keystore.password"], hive.secret(hive.keystore_password_file))
        url = (f"jdbc:hive2://127.0.0.1:{port('HIVE_PORT')}/default;ssl=true;"
               f"sslTrustStore={self.stack.state / 'pki-host/ca.p12'};trustStoreType=PKCS12")
        self.assertEqual(hive.env()["MHFZ_HIVE_JDBC_URL"], url)
        named = {prop.findtext("name"): prop.findtext("value")
                 for prop in ElementTree.parse(written["beeline-site.xml"]).getroot()}
        self.assertEqual(named, {"beeline.hs2.jdbc.url.platform": url, "beeline.hs2.jdbc.url.default": "platform"})
        self.assertEqual(hive.certificates()[0]["pki_keystore"], True)
        services = hive.role().var("_hive_services")
        for daemon, jmx in (("metastore", "JMX_HIVE_METASTORE_PORT"), ("hiveserver2", "JMX_HIVE_PORT")):
            env, argv = hive.role().unit_command("hive.service.j2", item={"key": daemon, "value": services[daemon]})
            self.assert_local(f"{daemon}'s command line", " ".join(argv))
            self.assertIn(str(self.stack.state), " ".join(argv))  # what stop looks for
            self.assertIn(f"=127.0.0.1:{port(jmx)}:", " ".join(argv))
        self.assertEqual(env["METASTORE_HOME"], str(hive.metastore_install))
        config = self.stack.services["monitoring"].role().render_template("prometheus.yml.j2")
        self.assert_local("prometheus.yml", config)
        jobs = set(re.findall(r"job_name: (\S+)", config))
        self.assertLessEqual({"prometheus", "node", "cadvisor", "postgresql", "kafka", "hadoop_namenode", "hive",
                              "hive_metastore", "mhfz_consumer"}, jobs)
        self.assertIn(f"127.0.0.1:{port('JMX_HIVE_METASTORE_PORT')}", config)

    def test_monitoring_daemons_run_their_roles_command_lines(self):
        monitoring = self.stack.services["monitoring"]
        monitoring.pg_password_file.parent.mkdir(parents=True, exist_ok=True)
        monitoring.pg_password_file.write_text("secret")
        commands = {name: monitoring.command(name) for name in ("node_exporter", "cadvisor", "postgres_exporter",
                                                                 "prometheus")}
        for name, (env, argv) in commands.items():
            self.assert_local(f"{name}'s command line", " ".join(argv))
            self.assert_local(f"{name}'s environment", " ".join(env.values()))
        p = self.stack.port
        _, node = commands["node_exporter"]
        self.assertEqual(node, ["/usr/bin/prometheus-node-exporter",
                                f"--web.listen-address=127.0.0.1:{p('NODE_EXPORTER_PORT')}",
                                f"--collector.textfile.directory={monitoring.textfile}"])
        _, cadvisor = commands["cadvisor"]
        self.assertEqual(cadvisor, [str(monitoring.dir / "cadvisor/bin/cadvisor"), "--listen",
                                    f"127.0.0.1:{p('CADVISOR_PORT')}", "--housekeeping-interval", "5s"])
        _, prometheus = commands["prometheus"]
        self.assertIn(f"--config.file={monitoring.dir}/prometheus.yml", prometheus)
        self.assertIn(f"--storage.tsdb.path={monitoring.dir}/data", prometheus)
        # The environment of the role's drop-in, the password a private copy (systemd's LoadCredential).
        env, _ = commands["postgres_exporter"]
        credentials = monitoring.dir / "credentials"
        ca = self.stack.state / "pki-host/ca.crt"
        self.assertEqual(env["DATA_SOURCE_URI"], f"127.0.0.1:{p('PG_PORT')}/postgres?sslmode=verify-full&sslrootcert={ca}")
        self.assertEqual(env["DATA_SOURCE_USER"], "mhfz_monitoring")
        self.assertEqual(env["DATA_SOURCE_PASS_FILE"], str(credentials / "pg-password"))
        self.assertEqual((credentials / "pg-password").read_text(), "secret")
        self.assertEqual((credentials / "pg-password").stat().st_mode & 0o077, 0)
        # Every URL the stack waits on is one the prometheus role scrapes (the same host variables).
        config = monitoring.role().render_template("prometheus.yml.j2")
        for name in ("node_exporter", "cadvisor", "postgres_exporter", "prometheus"):
            address = monitoring.url(name).removeprefix("http://").split("/")[0]
            self.assertIn(f'"{address}"', config, name)

    def test_the_metastore_schema_is_created_only_in_a_database_without_one(self):
        role = self.stack.services["hive"].role()
        absent = (1, "", 'ERROR: relation "VERSION" does not exist')
        answers = {"-info": absent, "-initSchema": (0, "", ""), "-validate": (0, "Done with metastore validation: [SUCCESS]", "")}
        run = lambda answers, calls: lambda env, argv: calls.append(argv[-1]) or answers[argv[-1]]  # noqa: E731
        for info, expected in ((absent, ["-info", "-initSchema", "-validate"]), ((0, "4.0.0", ""), ["-info", "-validate"])):
            calls = []
            role.run_commands("schema.yml", run({**answers, "-info": info}, calls))
            self.assertEqual(calls, expected)
        for broken in ({"-info": (1, "", "Connection refused")}, {"-validate": (1, "[FAIL]", "")}):
            with self.assertRaises(StackError):
                role.run_commands("schema.yml", run({**answers, **broken}, []))

    def test_the_metastore_database_as_the_postgresql_role_creates_it(self):
        role = self.stack.role("postgresql", ["postgresql"], {
            **pg.overrides(self.stack), "postgresql_users": [{"name": "hive", "password": "secret"}],
            "postgresql_databases": [{"name": "metastore", "owner": "hive", "connect_users": ["hive"]}],
        }, key="test")
        sql = "".join(pg.module_sql(m, a) for f in ("users.yml", "databases.yml") for m, a in role.module_calls(f))
        self.assertIn('ALTER ROLE "hive" WITH NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION LOGIN PASSWORD \'secret\';', sql)
        self.assertIn("CREATE DATABASE \"metastore\" OWNER \"hive\" ENCODING ''UTF8''", sql)
        self.assertIn('REVOKE CONNECT, TEMPORARY ON DATABASE "metastore" FROM PUBLIC;', sql)
        self.assertIn('GRANT CONNECT ON DATABASE "metastore" TO "hive";', sql)

if __name__ == "__main__":
    unittest.main()
