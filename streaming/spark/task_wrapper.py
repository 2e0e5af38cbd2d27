"""Runs one streaming executable for RDD.pipe and keeps its Hadoop counters.

usage: task_wrapper.py REPORT_DIR STAGE PROGRAM [ARG...]

RDD.pipe connects the program's stdin and stdout to the partition, but its stderr would only
reach the executor's log. So the program runs here with stdin and stdout inherited (the data
does not pass through this process) and stderr read line by line, as Hadoop streaming reads it:

- ``reporter:counter:GROUP,NAME,AMOUNT`` lines are summed and written, when the program has
  exited, to ``REPORT_DIR/counters-STAGE-PID.json`` ({"GROUP.NAME": total});
- ``reporter:status:`` lines are dropped;
- anything else goes to our stderr prefixed with ``[STAGE]``.

If the program fails, ``REPORT_DIR/failed-STAGE-PID.txt`` says how, so the driver can name the
stage, and we exit with the program's status.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from typing import Dict, List, Optional, Tuple

COUNTER_PREFIX = b"reporter:counter:"
STATUS_PREFIX = b"reporter:status:"


def parse_counter_line(line: bytes) -> Optional[Tuple[str, int]]:
    """``reporter:counter:group,name,amount`` -> ("group.name", amount); None otherwise."""
    if not line.startswith(COUNTER_PREFIX):
        return None
    parts = line[len(COUNTER_PREFIX) :].decode("utf-8", "replace").split(",", 2)
    if len(parts) != 3:
        return None
    group, name, amount = parts
    try:
        return f"{group}.{name}", int(amount.strip())
    except ValueError:
        return None


def relay_stderr(stage: str, stderr, counters: Dict[str, int]) -> None:
    out = sys.stderr.buffer
    for line in stderr:
        counter = parse_counter_line(line.rstrip(b"\r\n"))
        if counter is not None:
            counters[counter[0]] += counter[1]
        elif not line.startswith(STATUS_PREFIX):
            out.write(b"[" + stage.encode() + b"] " + line.rstrip(b"\n") + b"\n")
            out.flush()


def write_atomically(path: str, text: str) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)


def describe_status(program: str, status: int) -> str:
    if status < 0:
        return f"{program} was killed by signal {-status}"
    return f"{program} exited with status {status}"


def main(argv: List[str]) -> int:
    if len(argv) < 3:
        sys.stderr.write("usage: task_wrapper.py REPORT_DIR STAGE PROGRAM [ARG...]\n")
        return 2
    report_dir, stage, command = argv[0], argv[1], argv[2:]
    counters: Dict[str, int] = Counter()
    tag = f"{stage}-{os.getpid()}"
    try:
        child = subprocess.Popen(command, stderr=subprocess.PIPE)
    except OSError as error:
        message = f"cannot start {command[0]}: {error.strerror}"
        sys.stderr.write(f"[{stage}] {message}\n")
        write_atomically(os.path.join(report_dir, f"failed-{tag}.txt"), message)
        return 127
    relay_stderr(stage, child.stderr, counters)
    status = child.wait()
    write_atomically(os.path.join(report_dir, f"counters-{tag}.json"), json.dumps(counters))
    if status != 0:
        write_atomically(
            os.path.join(report_dir, f"failed-{tag}.txt"), describe_status(command[0], status)
        )
        return 128 - status if status < 0 else status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
