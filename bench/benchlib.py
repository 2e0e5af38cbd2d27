"""Shared plumbing of the benchmark scripts: paths, release builds, timing and tables.

The scripts import it from their own directory; nothing here is specific to one benchmark.
"""

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def mirror_classes():
    """The class ids the site mirror holds (tests/mirror-classes)."""
    lines = (REPO / "tests" / "mirror-classes").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


# The classes the site mirror holds (its index also links four classes whose pages it lacks).
MIRROR_CLASSES = mirror_classes()

MB = 1_000_000  # throughput is reported in decimal megabytes per second


def die(message):
    print(f"{Path(sys.argv[0]).name}: {message}", file=sys.stderr)
    sys.exit(2)


def note(message):
    """Progress goes to stderr so that stdout holds only the result table."""
    print(f"[{Path(sys.argv[0]).name}] {message}", file=sys.stderr, flush=True)


def bench_dir():
    """Where large generated data lives: outside the repository, reused between runs."""
    explicit = os.environ.get("MHFZ_BENCH_DIR")
    if explicit:
        path = Path(explicit)
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(cache) / "mhfz-pipeline" / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def mirror_dir():
    path = Path(os.environ.get("MHFZ_MIRROR") or REPO.parent / "shared" / "ferias-site" / "buki")
    if not (path / "buki.htm").is_file():
        die(f"site mirror not found at {path} (no buki.htm); set MHFZ_MIRROR to the mirror's buki/")
    return path.resolve()


def build_release(packages, targets=()):
    """`cargo build --release` of `packages`; returns {executable name: path}.

    `targets` are cargo target options (`--bin NAME`, `--example NAME`) that limit the build.

    Honours CARGO_TARGET_DIR like any cargo call; the paths come from cargo's own artifact
    messages, so the target triple set in .cargo/config.toml needs no repeating here.
    """
    if shutil.which("cargo") is None:
        die("cargo not found: the benchmarks build the release binaries themselves")
    command = ["cargo", "build", "--release", "--locked", "--message-format=json-render-diagnostics"]
    for package in packages:
        command += ["-p", package]
    command += list(targets)
    note("building: " + " ".join(command[:4] + command[5:]))
    result = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        die(f"release build failed ({' '.join(command)})")
    executables = {}
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            path = Path(message["executable"])
            executables[path.name] = path
    return executables


def require(executables, name):
    if name not in executables:
        die(f"the release build produced no {name} (built: {', '.join(sorted(executables)) or 'nothing'})")
    return executables[name]


def pinned(command, core=0):
    """Runs `command` on one core when taskset exists, so timings do not depend on the scheduler."""
    if shutil.which("taskset"):
        return ["taskset", "-c", str(core)] + list(command)
    return list(command)


# Wall-clock seconds, and the CPU seconds (user + system) the command used: the CPU time stays
# meaningful when other work shares the machine, the wall time is what a user waits.
Timing = namedtuple("Timing", "wall cpu")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(command, stdin_path=None, stdout_path=None, env=None):
    """Timing of one run; a failing command stops the benchmark with its stderr.

    `env` replaces the environment (default: this process's)."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        cpu_before = children_cpu()
        start = time.perf_counter()
        result = subprocess.run(command, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, env=env)
        elapsed = Timing(time.perf_counter() - start, children_cpu() - cpu_before)
    finally:
        if stdin_path:
            stdin.close()
        if stdout_path:
            stdout.close()
    if result.returncode != 0:
        tail = result.stderr.decode(errors="replace")[-2000:]
        die(f"{' '.join(map(str, command))} exited with {result.returncode}:\n{tail}")
    return elapsed


def warm_cache(paths):
    """Reads files once so that every timed run starts from the page cache."""
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(1 << 22):
                pass


def median(values):
    return statistics.median(values)


def machine_line():
    """One line saying where and under what load the numbers were taken."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"machine: {os.cpu_count()} CPUs, {model}, {platform.machine()}; load average {load}"


def print_table(header, rows):
    """A plain aligned text table: numbers right-aligned, text left-aligned."""
    cells = [[str(cell) for cell in row] for row in [header] + rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def numeric(text):
        return text.replace(".", "", 1).replace("×", "").replace("-", "", 1).isdigit()

    for index, row in enumerate(cells):
        line = "  ".join(
            cell.rjust(width) if index and numeric(cell) else cell.ljust(width)
            for cell, width in zip(row, widths)
        )
        print(line.rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))


def verdict(ok):
    return "PASS" if ok else "FAIL"
