#!/usr/bin/env python3
"""The live check's work, inside the local stack with the monitoring service (monitoring/live-check
starts and stops it): real traffic through the pipeline, then Prometheus' HTTP API.

1. Traffic: the mirror's records produced into Kafka by `mhfz-scraper`, one poison message beside
   them, `mhfz-consumer` consuming into PostgreSQL (left running: its /metrics is a target), and
   one batch run `mhfz-pipeline run --textfile-dir` (export, local streaming job, Hive load),
   whose metrics node_exporter's textfile collector serves.
2. Every scrape target is up, and every job of the prometheus role is among them.
3. Every alert and recording rule is evaluated by Prometheus without error.
4. Every PromQL expression of every dashboard and rule runs through /api/v1/query without error.
5. The core panels (CORE_PANELS) return data.
6. Every SQL query of the Weapons dashboard runs against PostgreSQL as a read-only role (granted
   by `mhfz-consumer grant-roles`, as the mhfz_pipeline role grants Grafana's) and returns rows.

Prints one line per check and closes with "N passed, N failed"; exit status 1 on any failure.
Environment: the stack's variables (scripts/stack env), MHFZ_MIRROR, MHFZ_RELEASE_DIR (the
release binaries), MHFZ_HADOOP (scripts/hadoop).
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import sources

# Jobs the stack's Prometheus must scrape: those the prometheus role generates for the
# platform's groups.
EXPECTED_JOBS = {
    "prometheus",
    "node",
    "cadvisor",
    "postgresql",
    "kafka",
    "hadoop_namenode",
    "hadoop_datanode",
    "yarn_resourcemanager",
    "yarn_nodemanager",
    "mapreduce_historyserver",
    "hive",
    "hive_metastore",
    "mhfz_consumer",
}
# (dashboard file, panel title): panels that must show data on a stack with traffic. (Panels
# that count targets up fall back to 0, so they always show data; the targets are checked apart.)
CORE_PANELS = [
    ("kafka.json", "Partitions"),
    ("kafka.json", "Active controllers"),
    ("kafka.json", "Offline partitions"),
    ("kafka.json", "Messages produced per topic"),
    ("kafka.json", "Bytes in and out"),
    ("kafka.json", "Consumer lag (group of mhfz-consumer)"),
    ("kafka.json", "Heap used"),
    ("postgresql.json", "Reachable"),
    ("postgresql.json", "Connections"),
    ("postgresql.json", "Transactions"),
    ("postgresql.json", "Rows written"),
    ("postgresql.json", "Locks"),
    ("postgresql.json", "mhfz database size"),
    ("hadoop.json", "Live DataNodes"),
    ("hadoop.json", "HDFS used"),
    ("hadoop.json", "HDFS capacity"),
    ("hadoop.json", "Active NodeManagers"),
    ("hadoop.json", "Applications"),
    ("hadoop.json", "Heap used"),
    ("hive.json", "Open connections"),
    ("hive.json", "Open sessions"),
    ("hive.json", "Queries"),
    ("infrastructure.json", "CPU busy"),
    ("infrastructure.json", "Memory used"),
    ("infrastructure.json", "Disk space used"),
    ("infrastructure.json", "Network"),
    ("infrastructure.json", "Scrape targets"),
    ("pipeline.json", "Records scraped (24 h)"),
    ("pipeline.json", "Consumer lag"),
    ("pipeline.json", "Dead letters (24 h)"),
    ("pipeline.json", "Rows written (24 h)"),
    ("pipeline.json", "Consumer throughput"),
    ("pipeline.json", "Batch duration"),
    ("pipeline.json", "Since last success"),
    ("pipeline.json", "Last run"),
    ("pipeline.json", "Stage durations"),
    ("pipeline.json", "Stage reconciliation"),
]
# The classes the site mirror holds, comma-separated (tests/mirror-classes).
_MIRROR_CLASSES_FILE = Path(__file__).resolve().parents[2] / "tests" / "mirror-classes"
MIRROR_CLASSES = ",".join(
    line for line in _MIRROR_CLASSES_FILE.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
)
TOPIC = "weapon_data"
DATABASE = "mhfz"
TIMEOUT = 180  # seconds for targets to come up and panels to fill


def die(message):
    print(f"live-check: {message}", file=sys.stderr)
    sys.exit(2)


def note(message):
    print(f"live-check: {message}", file=sys.stderr, flush=True)


def env(name):
    value = os.environ.get(name)
    if not value:
        die(f"{name} is not set: run monitoring/live-check (it starts the stack with the monitoring service)")
    return value


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def record(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok    {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL  {what}", flush=True)
            if detail:
                print("      " + str(detail).strip().replace("\n", "\n      "), flush=True)


class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def get(self, path, **params):
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            body = json.load(error)
        except (OSError, ValueError) as error:
            return {"status": "error", "error": str(error)}
        return body

    def query(self, expr):
        """(result list, None) or (None, error message)."""
        body = self.get("/api/v1/query", query=expr)
        if body.get("status") != "success":
            return None, f"{body.get('errorType', '')}: {body.get('error', body)}"
        return body["data"]["result"], None


# --- traffic ------------------------------------------------------------------------------------


class Stack:
    def __init__(self):
        self.brokers = env("MHFZ_KAFKA_BOOTSTRAP")
        self.pg_host, self.pg_port = env("MHFZ_PG_HOST"), env("MHFZ_PG_PORT")
        self.pg_user = env("MHFZ_PG_ADMIN_USER")
        self.pg_password_file = env("MHFZ_PG_ADMIN_PASSWORD_FILE")
        self.kafka_classpath = env("MHFZ_KAFKA_CLASSPATH")
        # The tools' login (SASL_SSL as the stack's admin): the kafka role's client settings.
        self.kafka_client_properties = env("MHFZ_KAFKA_CLIENT_PROPERTIES")
        self.textfile_dir = env("MHFZ_NODE_EXPORTER_TEXTFILE_DIR")
        self.consumer_addr = env("MHFZ_CONSUMER_METRICS_ADDR")
        self.release = Path(env("MHFZ_RELEASE_DIR"))
        self.mirror = env("MHFZ_MIRROR")
        self.state = Path(env("MHFZ_STACK_DIR"))

    def pg_env(self):
        return dict(
            os.environ,
            MHFZ_PG_URL=f"postgres://{self.pg_user}@{self.pg_host}:{self.pg_port}/{DATABASE}",
            MHFZ_PG_PASSWORD_FILE=self.pg_password_file,
        )

    def run(self, what, command, **kwargs):
        result = subprocess.run(command, capture_output=True, text=True, **kwargs)
        if result.returncode != 0:
            die(f"{what} failed (exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        return result.stdout

    def create_database(self):
        password = Path(self.pg_password_file).read_text().strip()
        psql = ["psql", "-X", "-q", "-At", "-h", self.pg_host, "-p", self.pg_port, "-U", self.pg_user, "-d", "postgres"]
        psql_env = dict(os.environ, PGPASSWORD=password)
        exists = self.run(
            "psql", psql + ["-c", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"], env=psql_env
        )
        if not exists.strip():
            self.run("createdb", psql + ["-c", f"CREATE DATABASE {DATABASE}"], env=psql_env)
        self.run("mhfz-consumer migrate", [str(self.release / "mhfz-consumer"), "migrate"], env=self.pg_env())

    def psql(self, user, password, database):
        """psql's argv and environment for USER (the password in the environment, never in argv)."""
        argv = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.pg_host, "-p", self.pg_port,
                "-U", user, "-d", database]
        return argv, dict(os.environ, PGPASSWORD=password)

    def reader_login(self):
        """(user, password) of a read-only login, as Grafana's Weapons datasource has: a role of its
        own with a new password, granted by `mhfz-consumer grant-roles` (the writer and exporter
        roles it also names are left without login)."""
        admin = self.psql(self.pg_user, Path(self.pg_password_file).read_text().strip(), DATABASE)
        user, password = "mhfz_live_reader", secrets.token_hex(16)
        roles = {user: f"LOGIN PASSWORD '{password}'", "mhfz_live_writer": "NOLOGIN", "mhfz_live_exporter": "NOLOGIN"}
        for role, options in roles.items():
            statement = (f"DO $$BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object THEN NULL; END$$;"
                         f"ALTER ROLE {role} {options}; GRANT CONNECT ON DATABASE {DATABASE} TO {role};")
            # On stdin: the password stays off every command line.
            self.run(f"create role {role}", admin[0], env=admin[1], input=statement)
        self.run("mhfz-consumer grant-roles",
                 [str(self.release / "mhfz-consumer"), "grant-roles", "--writer", "mhfz_live_writer",
                  "--exporter", "mhfz_live_exporter", "--reader", user], env=self.pg_env())
        return user, password

    def produce(self):
        note("producing the mirror's records into Kafka (mhfz-scraper)")
        out = self.state / "live-check-records.ndjson"
        self.run(
            "mhfz-scraper",
            [
                str(self.release / "mhfz-scraper"),
                "--site",
                self.mirror,
                "--classes",
                MIRROR_CLASSES,
                "--kafka",
                self.brokers,
                "--topic",
                TOPIC,
                "--out",
                str(out),
                "--quiet",
            ],
        )
        records = sum(1 for _ in out.open("rb"))
        out.unlink()
        # One message the consumer must refuse: it goes to the dead-letter topic.
        self.run(
            "kafka console producer",
            [
                "java",
                "-Xmx128m",
                "-cp",
                self.kafka_classpath,
                "org.apache.kafka.tools.ConsoleProducer",
                "--bootstrap-server",
                self.brokers,
                "--command-config",
                self.kafka_client_properties,
                "--topic",
                TOPIC,
            ],
            input="this is not a weapon record\n",
        )
        return records

    def start_consumer(self):
        note(f"starting mhfz-consumer, /metrics on {self.consumer_addr}")
        log = (self.state / "live-check-consumer.log").open("w")
        return subprocess.Popen(
            [
                str(self.release / "mhfz-consumer"),
                "--brokers",
                self.brokers,
                "--topic",
                TOPIC,
                "--metrics-addr",
                self.consumer_addr,
            ],
            env=self.pg_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_consumed(self, consumer, records):
        """Until the consumer has handled every record and the poison message."""
        deadline = time.monotonic() + TIMEOUT
        counters = {}
        while time.monotonic() < deadline:
            if consumer.poll() is not None:
                die(f"mhfz-consumer exited with {consumer.returncode}; see {self.state}/live-check-consumer.log")
            try:
                with urllib.request.urlopen(f"http://{self.consumer_addr}/metrics", timeout=5) as response:
                    text = response.read().decode()
                counters = {
                    name: int(value)
                    for name, value in re.findall(r"^(mhfz_consumer_\w+_total) (\d+)$", text, re.MULTILINE)
                }
                stored = counters.get("mhfz_consumer_rows_written_total", 0) + counters.get(
                    "mhfz_consumer_rows_unchanged_total", 0
                )
                if stored >= records and counters.get("mhfz_consumer_dead_letters_total", 0) >= 1:
                    note(f"consumer: {counters}")
                    return
            except OSError:
                pass
            time.sleep(1)
        die(f"mhfz-consumer did not store {records} records and one dead letter in {TIMEOUT}s: {counters}")

    def run_pipeline(self):
        note("one batch run: mhfz-pipeline run --engine local --textfile-dir (export, job, Hive load)")
        out = self.run(
            "mhfz-pipeline run",
            [
                str(self.release / "mhfz-pipeline"),
                "run",
                "--engine",
                "local",
                "--textfile-dir",
                self.textfile_dir,
                "--lock-file",
                str(self.state / "live-check-pipeline.lock"),
            ],
            env=self.pg_env(),
        )
        note(out.strip().splitlines()[0] if out.strip() else "pipeline: no output")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- checks -------------------------------------------------------------------------------------


def check_targets(checks, prometheus):
    deadline = time.monotonic() + TIMEOUT
    while True:
        body = prometheus.get("/api/v1/targets", state="active")
        targets = body.get("data", {}).get("activeTargets", []) if body.get("status") == "success" else []
        down = [t for t in targets if t["health"] != "up"]
        jobs = {t["labels"]["job"] for t in targets}
        if (targets and not down and EXPECTED_JOBS <= jobs) or time.monotonic() > deadline:
            break
        time.sleep(2)
    checks.record(
        EXPECTED_JOBS <= jobs, f"every job is scraped ({len(jobs)} jobs)", f"missing: {sorted(EXPECTED_JOBS - jobs)}"
    )
    for target in sorted(targets, key=lambda t: t["labels"]["job"]):
        checks.record(
            target["health"] == "up",
            f"target {target['labels']['job']} {target['scrapeUrl']} is up",
            target.get("lastError", ""),
        )


def check_rules(checks, prometheus):
    # Two evaluation intervals, so every rule has been evaluated at least once.
    time.sleep(12)
    body = prometheus.get("/api/v1/rules")
    rules = [rule for group in body.get("data", {}).get("groups", []) for rule in group["rules"]]
    expected = set(sources.alert_names())
    loaded = {rule["name"] for rule in rules}
    checks.record(
        expected <= loaded, f"Prometheus loaded all {len(expected)} alerts", f"missing: {sorted(expected - loaded)}"
    )
    bad = [f"{rule['name']}: {rule.get('lastError')}" for rule in rules if rule.get("health") != "ok"]
    checks.record(rules and not bad, f"every rule evaluates without error ({len(rules)} rules)", "\n".join(bad))
    firing = sorted({alert["labels"]["alertname"] for rule in rules for alert in rule.get("alerts", [])})
    note(f"alerts pending or firing now: {', '.join(firing) or 'none'}")


def check_expressions(checks, prometheus):
    expressions = list(sources.rule_expressions()) + list(sources.dashboard_expressions())
    errors = []
    for expression in expressions:
        _, error = prometheus.query(expression.expr)
        if error:
            errors.append(f"{expression.origin}: {error}\n  {expression.expr}")
    checks.record(
        not errors,
        f"all {len(expressions)} expressions of the rules and dashboards run without error",
        "\n".join(errors),
    )


def core_expressions():
    wanted = set(CORE_PANELS)
    found = {}
    for path in sources.dashboard_files():
        dashboard = sources.load_dashboard(path)
        for panel in sources.panels(dashboard):
            key = (path.name, panel.get("title"))
            if key in wanted:
                found[key] = [sources.substitute_templates(t["expr"]) for t in panel.get("targets", []) if "expr" in t]
    return found


def check_core_panels(checks, prometheus):
    found = core_expressions()
    for key in CORE_PANELS:
        checks.record(key in found, f"core panel {key[0]}: {key[1]} exists")
    deadline = time.monotonic() + 60
    pending = dict(found)
    empty = {}
    while pending:
        for key, exprs in list(pending.items()):
            results = [prometheus.query(expr)[0] for expr in exprs]
            if any(results):
                del pending[key]
                empty.pop(key, None)
            else:
                empty[key] = exprs
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(5)
    for key in CORE_PANELS:
        if key in found:
            checks.record(
                key not in empty,
                f"core panel {key[0]}: {key[1]} returns data",
                "no series from: " + " | ".join(empty.get(key, [])),
            )


def check_weapon_queries(checks, stack):
    queries = list(sources.dashboard_queries())
    checks.record(bool(queries), f"the dashboards hold SQL queries ({len(queries)})")
    psql, psql_env = stack.psql(*stack.reader_login(), DATABASE)
    for query in queries:
        result = subprocess.run(psql + ["-c", query.expr], capture_output=True, text=True, env=psql_env)
        rows = result.stdout.splitlines()
        checks.record(
            result.returncode == 0 and bool(rows),
            f"SQL panel {query.origin} returns rows as a read-only role ({len(rows)})",
            result.stderr or f"no rows from: {query.expr}",
        )


def main():
    stack = Stack()
    prometheus = Prometheus(env("MHFZ_PROMETHEUS_URL"))
    checks = Checks()
    stack.create_database()
    records = stack.produce()
    consumer = stack.start_consumer()
    try:
        stack.wait_consumed(consumer, records)
        stack.run_pipeline()
        check_targets(checks, prometheus)
        check_rules(checks, prometheus)
        check_expressions(checks, prometheus)
        check_core_panels(checks, prometheus)
        check_weapon_queries(checks, stack)
    finally:
        stop(consumer)
    print(f"live check: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
