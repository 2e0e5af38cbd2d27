"""The state dir's data files (ports.json, env.json: JSON, never code), the lock, free ports."""

import fcntl
import json
import os
import random
import shlex
import socket
import time
from pathlib import Path

from .errors import StackError
from .procs import write_atomically

# Ports come from 20000-32767, below Linux's ephemeral range (32768-60999): a port kept across
# starts is then never taken meanwhile by some program's outgoing connection.
PORT_RANGE = range(20000, 32768)


def pick_free_ports(count, taken=(), port_range=PORT_RANGE, rng=random):
    """count distinct ports free on 127.0.0.1, none of taken. Each is held bound while the others
    are chosen, so none repeats and none is one another process holds."""
    taken = set(taken)
    held, chosen = [], []
    try:
        for port in rng.sample(port_range, len(port_range)):
            if len(chosen) == count:
                break
            if port in taken:
                continue
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            held.append(sock)
            chosen.append(port)
    finally:
        for sock in held:
            sock.close()
    if len(chosen) < count:
        raise StackError(f"no {count} free ports left in {port_range.start}-{port_range.stop - 1}")
    return chosen


def load_json(path, what):
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except ValueError as error:
        raise StackError(f"{path} is damaged ({error}); remove it to start afresh ({what})") from None
    if not isinstance(data, dict):
        raise StackError(f"{path} is damaged (not an object); remove it to start afresh ({what})")
    return data


def assign_ports(path, names):
    """{name: port} for every name: those recorded in path (JSON) kept, the others picked free now
    and recorded. Kept because the Kafka quorum, HDFS metadata and every client configuration
    written against the stack depend on them."""
    ports = load_json(path, "new ports are picked") or {}
    for name, port in ports.items():
        if not isinstance(port, int) or port not in range(1, 65536):
            raise StackError(f"{path} is damaged ({name}: {port!r}); remove it to pick new ports")
    missing = [name for name in names if name not in ports]
    if missing:
        for name, port in zip(missing, pick_free_ports(len(missing), ports.values())):
            ports[name] = port
        write_atomically(path, json.dumps(ports, indent=2, sort_keys=True) + "\n")
    return ports


def export_lines(env):
    """The `export NAME=value` lines `scripts/stack env` prints (shell-quoted values)."""
    return "".join(f"export {name}={shlex.quote(str(value))}\n" for name, value in env.items())


class Lock:
    """An exclusive flock on the state dir's lock file (start and stop take it; `run` lets it go
    while its command runs, so that command may call scripts/stack itself)."""

    def __init__(self, path, timeout=600):
        self.path = Path(path)
        self.timeout = timeout
        self.fd = None

    def acquire(self):
        if self.fd is not None:
            return
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StackError(f"another scripts/stack holds {self.path}") from None
                time.sleep(0.2)

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
