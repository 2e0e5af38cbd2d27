"""tests/check-agreement passes on the repository and fails, naming the fact, on a copy with one
fact changed in one place:  python3 tests/test_check_agreement.py   (make lint runs it)"""

import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECK = REPO / "tests" / "check-agreement"
# What the checker reads (a copy of these is a repository to it).
READ = ["Cargo.toml", "record/src/class.rs", "ingest/src/kafka/mod.rs", "ingest/src/consumer/cli.rs",
        "tests/mirror-classes", "tools/cadvisor/go.mod", "monitoring/lib/live_check.py", "stack/README.md",
        "stack/mhfz_stack", "stack/kafka/pom.xml", "stack/hadoop/pom.xml", "stack/hive/pom.xml",
        "ansible/artifacts/jmx-exporter/pom.xml", "roles"]

# (what is broken, file, text, replacement, a word the report must contain)
BREAKAGES = [
    ("a version", "roles/kafka/defaults/main.yml", 'kafka_version: "4.4.0"', 'kafka_version: "4.4.1"', "Kafka version"),
    ("a version", "stack/hadoop/pom.xml", "<hadoop.version>3.4.2<", "<hadoop.version>3.4.3<", "Hadoop version"),
    ("a version", "roles/hive/defaults/main.yml", 'hive_jmx_exporter_version: "1.0.1"',
     'hive_jmx_exporter_version: "1.1.0"', "JMX exporter version"),
    ("a class list", "tests/mirror-classes", "\nbow\n", "\nbows\n", "mirror-classes"),
    ("a port", "roles/prometheus/defaults/main.yml", "  namenode: 9405", "  namenode: 9415", "namenode JMX"),
    ("a port", "roles/mhfz_pipeline/defaults/main.yml", "mhfz_pipeline_pg_port: 5432", "mhfz_pipeline_pg_port: 5433",
     "PostgreSQL port"),
    ("a port name", "stack/mhfz_stack/kafka.py", '"KAFKA_CONTROLLER_PORT"', '"KAFKA_QUORUM_PORT"', "port names"),
    ("a job name", "monitoring/lib/live_check.py", '"yarn_nodemanager",', '"yarn_node_manager",', "EXPECTED_JOBS"),
    ("a job name", "roles/prometheus/vars/main.yml", "- name: mhfz_consumer", "- name: consumer", "pipeline.json"),
]


def check(root):
    return subprocess.run([sys.executable, str(CHECK), str(root)], capture_output=True, text=True)


class Agreement(unittest.TestCase):
    def copy(self):
        root = Path(tempfile.mkdtemp(prefix="mhfz-agreement."))
        self.addCleanup(shutil.rmtree, root)
        for path in READ:
            source, target = REPO / path, root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
        return root

    def test_the_repository_agrees(self):
        result = check(self.copy())
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_each_broken_copy_is_reported(self):
        for what, path, text, replacement, word in BREAKAGES:
            with self.subTest(what=what, path=path):
                root = self.copy()
                original = (root / path).read_text()
                self.assertIn(text, original, "the breakage no longer applies: update the test")
                (root / path).write_text(original.replace(text, replacement, 1))
                result = check(root)
                self.assertEqual(result.returncode, 1, result.stdout)
                self.assertIn(word, result.stdout)


if __name__ == "__main__":
    unittest.main()
