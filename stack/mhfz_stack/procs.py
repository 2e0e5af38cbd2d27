"""Processes of the stack: find them by pid file or by /proc, start them detached, stop them."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from .errors import StackError, note

PROC = Path("/proc")


def alive(pid):
    """True when pid is a live process; a zombie counts as gone (nobody may be left to reap it)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return not stat.rpartition(")")[2].strip().startswith("Z")


def cmdline(pid):
    """The process's command line, arguments joined by spaces ('' when it is gone)."""
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def read_pid(path):
    try:
        text = Path(path).read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def owned_pid(pidfile, state):
    """The pid recorded in pidfile when that process is alive and belongs to this stack (its command
    line names the state dir): a stale pid reused by someone else is never taken for ours."""
    pid = read_pid(pidfile)
    if pid is None or not alive(pid) or str(state) not in cmdline(pid):
        return None
    return pid


# The stack's daemons by /proc/PID/comm (at most 15 characters): the JVMs, PostgreSQL, the
# monitoring service's Prometheus, node_exporter, postgres_exporter and cAdvisor.
DAEMON_NAMES = ("java", "postgres", "prometheus", "prometheus-node", "prometheus-post", "cadvisor")


def stack_pids(state, names=DAEMON_NAMES):
    """Every live process named in names whose command line names the state dir or whose working
    directory is inside it (PostgreSQL's children retitle themselves but keep the data dir)."""
    state = str(state)
    found = []
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            comm = (PROC / entry.name / "comm").read_text().strip()
        except OSError:
            continue
        if comm not in names:
            continue
        try:
            cwd = os.readlink(PROC / entry.name / "cwd")
        except OSError:
            cwd = ""
        if (cwd == state or cwd.startswith(state + "/") or state in cmdline(pid)) and alive(pid):
            found.append(pid)
    return found


def processes_working_in(directory):
    """Pids of every process whose working directory is inside directory."""
    directory = str(directory)
    found = []
    for entry in os.scandir(PROC):
        if entry.name.isdigit():
            try:
                cwd = os.readlink(PROC / entry.name / "cwd")
            except OSError:
                continue
            if (cwd == directory or cwd.startswith(directory + "/")) and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def wait_gone(pid, seconds):
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def terminate(name, pid, timeout, sig=signal.SIGTERM):
    """Stop pid with sig, then SIGKILL if it outlives timeout seconds."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    if wait_gone(pid, timeout):
        return
    note(f"{name} (pid {pid}) still running after {timeout}s: SIGKILL")
    kill(pid)
    if not wait_gone(pid, 10):
        raise StackError(f"{name} (pid {pid}) survived SIGKILL")


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# Children started by this process: kept so they are reaped (and never become zombies that look
# alive to a parent still running).
_children = []


def spawn(argv, pidfile, logfile, cwd, env=None, argv0=None):
    """Run argv detached, in a session of its own, from cwd, output to logfile; pidfile gets the
    pid of argv's process. argv0 renames the process (so that its command line names the state dir
    when its arguments do not). Returns the pid."""
    pidfile = Path(pidfile)
    pidfile.unlink(missing_ok=True)
    with open(logfile, "wb") as log:
        child = subprocess.Popen(
            [argv0 or argv[0], *argv[1:]],
            executable=argv[0],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    _children.append(child)
    # Popen returns once the exec has begun; the new command line appears in /proc a moment
    # later (until then it reads empty, and owned_pid would take the process for someone else's).
    deadline = time.monotonic() + 5
    while alive(child.pid) and not cmdline(child.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    write_atomically(pidfile, f"{child.pid}\n")
    return child.pid


def write_atomically(path, text, mode=0o644):
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def port_in_use(port):
    """True when something accepts connections on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", int(port))) == 0


def tail(path, lines=30, pattern=None):
    """The last lines of a log file (those matching pattern first, when given), for an error."""
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    out = [f"--- last lines of {path}"]
    if pattern is not None:
        out += [line for line in text if pattern.search(line)][-20:]
    out += text[-lines:]
    return "\n".join(out)


def link(path, target):
    """path becomes a symbolic link to target (replacing whatever was there)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.symlink_to(target)
