"""The Hadoop streaming job on Spark: the same mapper, combiner and reducer executables, through
RDD.pipe, with the same part files as the local runner (mhfz-local-runner) and Hadoop.

Run it with scripts/spark-streaming, which starts spark-submit bound to 127.0.0.1 with every
scratch directory under --work-dir.

Stages, as Hadoop streaming runs them:

1. map: each input's lines are piped through ``mhfz-mapper --input-name INPUT``; with
   --combiner, each map partition's output is sorted by key and piped through
   ``mhfz-reducer --combiner``;
2. shuffle: lines are partitioned by key (the text before the first tab, or the whole line)
   among --reducers partitions and sorted by key within each (repartitionAndSortWithinPartitions);
3. reduce: each partition is piped through ``mhfz-reducer`` and saved as ``part-NNNNN``.

The statistics are exact, so the rows do not depend on the combiner or on how lines are split
among tasks; which part file holds a row is Hadoop's HashPartitioner's choice, as in Hadoop
streaming and mhfz-local-runner, so the part files are byte-identical to theirs.

Every executable runs under task_wrapper.py with an explicit environment, so its
``reporter:counter:`` lines are summed (printed at the end, like the local runner's) and a
failure names its stage.

One difference from Hadoop remains: Spark's text input decodes each line as UTF-8 in the JVM,
replacing invalid bytes with U+FFFD, where Hadoop hands the mapper the raw bytes. The exporter
writes only UTF-8, so only hand-made input can tell: a line the mapper rejects as invalid UTF-8
under Hadoop is, under Spark, a line with replacement characters (a malformed record either way
unless the bad bytes sit inside a JSON string).
"""

import argparse
import glob
import json
import os
import shlex
import shutil
import sys
import uuid
from collections import Counter
from typing import Dict, Iterable, Iterator, List, Tuple
from urllib.parse import urlparse

from py4j.protocol import Py4JError
from pyspark import SparkConf, SparkContext
from pyspark.shuffle import ExternalSorter

from partitioning import hadoop_partition, key_of

PROGRAM = "spark-streaming"
HERE = os.path.dirname(os.path.abspath(__file__))
WRAPPER = os.path.join(HERE, "task_wrapper.py")
# Memory the combiner's per-partition sort may hold before spilling under spark.local.dir.
SORT_MEMORY_MB = 256


class JobError(Exception):
    """A failure to report as ``spark-streaming: error: ...``, exit status 1."""


def sort_by_key(lines: Iterable[str]) -> Iterator[str]:
    """One map partition's output sorted by key, as Hadoop sorts it before the combiner."""
    return iter(ExternalSorter(SORT_MEMORY_MB).sorted(lines, key=key_of))


# --- arguments and paths ----------------------------------------------------------------------


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Runs mhfz-mapper, the optional combiner and mhfz-reducer through Spark "
        "RDD.pipe and writes part-NNNNN files like Hadoop streaming and mhfz-local-runner.",
    )
    parser.add_argument("inputs", nargs="+", help="NDJSON inputs: local paths or URIs (hdfs://...)")
    parser.add_argument("--output-dir", required=True, help="must not exist, or be empty")
    parser.add_argument("--work-dir", required=True, help="Spark's and the job's scratch space")
    parser.add_argument("--mapper", required=True, help="the mhfz-mapper executable")
    parser.add_argument("--reducer", required=True, help="mhfz-reducer (also the combiner)")
    parser.add_argument("-r", "--reducers", type=positive, default=1, help="reduce partitions")
    parser.add_argument("--combiner", action="store_true", help="run mhfz-reducer --combiner")
    parser.add_argument("--strict", action="store_true", help="pass --strict to every program")
    parser.add_argument(
        "--counters-json", help="also write the counter totals here, as a JSON object"
    )
    return parser.parse_args(argv)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def to_uri(path: str) -> str:
    """A URI as given; a local path as an absolute file: URI (not resolved against fs.defaultFS)."""
    if urlparse(path).scheme:
        return path
    return "file://" + os.path.abspath(path)


def executable(path: str, what: str) -> str:
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise JobError(f"the {what} {path} is not an executable file")
    return path


# --- the job ----------------------------------------------------------------------------------


class Stages:
    """The pipe commands: each program under task_wrapper.py, with a fixed environment."""

    def __init__(self, args: argparse.Namespace, report_dir: str):
        self.mapper = executable(args.mapper, "mapper")
        self.reducer = executable(args.reducer, "reducer")
        self.strict = ["--strict"] if args.strict else []
        self.report_dir = report_dir
        # The programs need nothing from the environment; LC_ALL=C keeps any tool byte-wise.
        self.env = {"LC_ALL": "C"}

    def command(self, stage: str, program: str, *args: str) -> str:
        words = [sys.executable, WRAPPER, self.report_dir, stage, program, *self.strict, *args]
        return " ".join(shlex.quote(word) for word in words)

    def pipe(self, rdd, stage: str, program: str, *args: str):
        return rdd.pipe(self.command(stage, program, *args), env=self.env, checkCode=True)


def build(sc: SparkContext, args: argparse.Namespace, stages: Stages):
    """The job's final RDD: one partition per reducer, each the reducer's output lines."""
    inputs = [to_uri(path) for path in args.inputs]
    mapped = sc.union(
        [
            stages.pipe(
                sc.textFile(uri),
                "mapper",
                stages.mapper,
                "--input-name",
                uri,
            )
            for uri in inputs
        ]
    )
    if args.combiner:
        mapped = stages.pipe(
            mapped.mapPartitions(sort_by_key), "combiner", stages.reducer, "--combiner"
        )
    shuffled = mapped.map(lambda line: (key_of(line), line)).repartitionAndSortWithinPartitions(
        args.reducers, hadoop_partition
    )
    return stages.pipe(shuffled.values(), "reducer", stages.reducer)


class Output:
    """The output directory, written as a whole: saved under a hidden sibling, then renamed."""

    def __init__(self, sc: SparkContext, directory: str):
        jvm = sc._jvm
        self.path = jvm.org.apache.hadoop.fs.Path(to_uri(directory))
        self.fs = self.path.getFileSystem(sc._jsc.hadoopConfiguration())
        # No .crc side files next to the part files on a local disk, as with the local runner
        # (the file system object is cached, so the tasks' writers share the setting).
        self.fs.setWriteChecksum(False)
        self.staging = jvm.org.apache.hadoop.fs.Path(
            self.path.getParent(), f".{self.path.getName()}.spark-{uuid.uuid4().hex}"
        )

    def check_unused(self) -> None:
        """Like Hadoop and the local runner: an existing output directory must be empty."""
        if self.fs.exists(self.path) and (
            not self.fs.getFileStatus(self.path).isDirectory()
            or len(self.fs.listStatus(self.path)) > 0
        ):
            raise JobError(f"output directory {self.path} is not empty")

    def commit(self) -> None:
        self.check_unused()
        if self.fs.exists(self.path):
            self.fs.delete(self.path, False)
        if not self.fs.rename(self.staging, self.path):
            raise JobError(f"renaming {self.staging} to {self.path} failed")

    def discard(self) -> None:
        self.fs.delete(self.staging, True)


def read_reports(report_dir: str) -> Tuple[Dict[str, int], List[str]]:
    """Counter totals and failure descriptions written by task_wrapper.py."""
    counters: Dict[str, int] = Counter()
    for path in glob.glob(os.path.join(report_dir, "counters-*.json")):
        with open(path, encoding="utf-8") as file:
            counters.update(json.load(file))
    failures = []
    for path in sorted(glob.glob(os.path.join(report_dir, "failed-*.txt"))):
        stage = os.path.basename(path).split("-")[1]
        with open(path, encoding="utf-8") as file:
            failures.append(f"the {stage} failed: {file.read()}")
    return counters, failures


def first_line(error: Exception) -> str:
    """The gist of an exception: for a Java one (Py4JJavaError), the Java exception's message."""
    text = str(getattr(error, "java_exception", error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


def run(args: argparse.Namespace) -> Dict[str, int]:
    report_dir = os.path.join(os.path.abspath(args.work_dir), f"reports-{uuid.uuid4().hex}")
    os.makedirs(report_dir)
    try:
        run_job(args, Stages(args, report_dir))
        counters, _ = read_reports(report_dir)
        return counters
    finally:
        shutil.rmtree(report_dir, ignore_errors=True)


def run_job(args: argparse.Namespace, stages: Stages) -> None:
    sc = SparkContext(conf=SparkConf().setAppName(PROGRAM))
    # The tasks call the partitioner and key_of by reference: they need partitioning.py.
    sc.addPyFile(os.path.join(HERE, "partitioning.py"))
    try:
        try:
            output = Output(sc, args.output_dir)
            output.check_unused()
        except Py4JError as error:
            raise JobError(f"output directory {args.output_dir}: {first_line(error)}") from error
        try:
            build(sc, args, stages).saveAsTextFile(output.staging.toString())
        except Exception as error:
            output.discard()
            _, failures = read_reports(stages.report_dir)
            raise JobError(
                "; ".join(failures) or f"the Spark job failed: {first_line(error)}"
            ) from error
        output.commit()
    finally:
        sc.stop()


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    try:
        counters = run(args)
    except JobError as error:
        sys.stderr.write(f"{PROGRAM}: error: {error}\n")
        return 1
    lines = [f"{PROGRAM}: counters:\n"] + [f"  {n}={v}\n" for n, v in sorted(counters.items())]
    sys.stderr.write("".join(lines))
    if args.counters_json:
        with open(args.counters_json, "w", encoding="utf-8") as file:
            json.dump(dict(sorted(counters.items())), file, indent=2)
            file.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
