"""The supervisor's own logic, on real processes, sockets and files (no services):
  PYTHONPATH=stack python3 -m unittest discover -s stack/tests     (make lint runs it)"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mhfz_stack import jars, procs, state  # noqa: E402
from mhfz_stack.errors import StackError  # noqa: E402
from mhfz_stack.render import parse_env_file  # noqa: E402
from mhfz_stack.stack import DEFAULT_SERVICES, select_services  # noqa: E402


class Temp(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="mhfz-stack-unit.")).resolve()
        self.addCleanup(subprocess.run, ["rm", "-rf", str(self.dir)])


class Ports(Temp):
    def test_picks_distinct_free_ports_outside_those_taken(self):
        ports = state.pick_free_ports(20, taken=range(20000, 20100))
        self.assertEqual(len(set(ports)), 20)
        self.assertTrue(all(p in state.PORT_RANGE and p >= 20100 for p in ports))

    def test_never_picks_a_port_another_process_holds(self):
        with socket.socket() as held:
            held.bind(("127.0.0.1", 0))
            port = held.getsockname()[1]
            self.assertEqual(state.pick_free_ports(1, port_range=range(port, port + 2)), [port + 1])
            with self.assertRaises(StackError):
                state.pick_free_ports(1, port_range=range(port, port + 1))

    def test_recorded_ports_are_kept_and_new_names_get_new_ones(self):
        path = self.dir / "ports.json"
        first = state.assign_ports(path, ["A", "B"])
        second = state.assign_ports(path, ["A", "B", "C"])
        self.assertEqual({k: second[k] for k in first}, first)
        self.assertEqual(len(set(second.values())), 3)
        self.assertEqual(json.loads(path.read_text()), second)

    def test_a_damaged_ports_file_is_refused(self):
        path = self.dir / "ports.json"
        for text in ("A=1\n", '{"A": "x"}', '{"A": 70000}', "[1]"):
            path.write_text(text)
            with self.assertRaises(StackError, msg=text):
                state.assign_ports(path, ["A"])


class Environment(Temp):
    def test_export_lines_give_the_values_back_in_a_shell(self):
        env = {"MHFZ_A": "plain", "MHFZ_B": "two words", "MHFZ_C": "it's $HOME `x` *", "MHFZ_D": ""}
        script = state.export_lines(env) + "".join(f'printf "%s\\0" "${name}"\n' for name in env)
        out = subprocess.run(["sh", "-c", script], capture_output=True, check=True).stdout.decode()
        self.assertEqual(out.split("\0")[:-1], list(env.values()))

    def test_env_files_of_the_roles_are_read(self):
        text = "# comment\nA=1\nB='x:y/*'\n\nC=\n"
        self.assertEqual(parse_env_file(text), {"A": "1", "B": "x:y/*", "C": ""})


class Services(unittest.TestCase):
    def test_default_and_chosen_services(self):
        self.assertEqual(select_services(""), (DEFAULT_SERVICES, DEFAULT_SERVICES))
        selected, known = select_services("kafka pg monitoring")
        self.assertEqual(selected, ["kafka", "pg", "monitoring"])
        self.assertEqual(known, DEFAULT_SERVICES + ["monitoring"])
        with self.assertRaises(StackError):
            select_services("pg nosuch")


class Processes(Temp):
    def spawn(self, *argv):
        return procs.spawn(list(argv), self.dir / "p.pid", self.dir / "p.log", self.dir, argv0=str(self.dir / "sleeper"))

    def test_owned_pid_only_for_a_live_process_naming_the_state_dir(self):
        pid = self.spawn("/bin/sleep", "30")
        self.addCleanup(procs.kill, pid)
        self.assertEqual(procs.read_pid(self.dir / "p.pid"), pid)
        self.assertEqual(procs.owned_pid(self.dir / "p.pid", self.dir), pid)
        self.assertIsNone(procs.owned_pid(self.dir / "p.pid", self.dir / "elsewhere"))
        (self.dir / "other.pid").write_text(f"{os.getppid()}\n")  # alive, not ours
        self.assertIsNone(procs.owned_pid(self.dir / "other.pid", self.dir))
        (self.dir / "junk.pid").write_text("12ab\n")
        self.assertIsNone(procs.owned_pid(self.dir / "junk.pid", self.dir))
        self.assertIsNone(procs.owned_pid(self.dir / "missing.pid", self.dir))

    def test_detached_in_a_session_of_its_own(self):
        pid = self.spawn("/bin/sleep", "30")
        self.addCleanup(procs.kill, pid)
        self.assertEqual(os.getsid(pid), pid)

    def test_terminate_ends_a_process_and_kills_one_ignoring_sigterm(self):
        polite = self.spawn("/bin/sleep", "30")
        procs.terminate("polite", polite, timeout=5)
        self.assertFalse(procs.alive(polite))
        stubborn = procs.spawn(["/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"],
                               self.dir / "s.pid", self.dir / "s.log", self.dir)
        time.sleep(0.3)
        began = time.monotonic()
        procs.terminate("stubborn", stubborn, timeout=1)
        self.assertFalse(procs.alive(stubborn))
        self.assertGreaterEqual(time.monotonic() - began, 1)

    def test_leftovers_are_found_by_working_dir_and_command_line(self):
        by_arg = self.spawn("/bin/sleep", "30")
        inside = self.dir / "work"
        inside.mkdir()
        by_cwd = procs.spawn(["/bin/sleep", "31"], self.dir / "c.pid", self.dir / "c.log", inside)
        outsider = procs.spawn(["/bin/sleep", "32"], self.dir / "o.pid", self.dir / "o.log", "/")
        for pid in (by_arg, by_cwd, outsider):
            self.addCleanup(procs.kill, pid)
        found = procs.stack_pids(self.dir, names=("sleep",))
        self.assertIn(by_arg, found)
        self.assertIn(by_cwd, found)
        self.assertNotIn(outsider, found)
        self.assertEqual(procs.processes_working_in(inside), [by_cwd])

    def test_a_zombie_counts_as_gone(self):
        child = subprocess.Popen(["/bin/true"])
        stat = Path(f"/proc/{child.pid}/stat")
        deadline = time.monotonic() + 10
        while ") Z" not in stat.read_text() and time.monotonic() < deadline:  # ended, not reaped yet
            time.sleep(0.05)
        self.assertTrue(stat.exists())
        self.assertFalse(procs.alive(child.pid))
        child.wait()


class Locking(Temp):
    def test_a_second_holder_waits_then_gives_up(self):
        first = state.Lock(self.dir / "lock")
        first.acquire()
        second = state.Lock(self.dir / "lock", timeout=0.5)
        with self.assertRaises(StackError):
            second.acquire()
        first.release()
        second.acquire()
        second.release()

    def test_the_lock_is_not_inherited_by_a_command(self):
        lock = state.Lock(self.dir / "lock")
        lock.acquire()
        held = subprocess.run(["sh", "-c", 'for fd in /proc/$$/fd/*; do readlink "$fd"; done'],
                              capture_output=True, text=True, close_fds=False).stdout
        self.assertIn("/dev/", held)  # the command's own stdin, stdout, stderr are listed
        self.assertNotIn(str(self.dir / "lock"), held)
        lock.release()


class Jars(Temp):
    def setUp(self):
        super().setUp()
        self.home = self.dir / "thing-1"
        (self.home / "jars").mkdir(parents=True)
        for name in ("a.jar", "b.jar"):
            (self.home / "jars" / name).write_bytes(name.encode() * 100)
        sums = subprocess.run("sha256sum -- *.jar", shell=True, cwd=self.home / "jars", capture_output=True, text=True)
        (self.home / "SHA256SUMS").write_text(sums.stdout)

    def test_a_cache_matching_its_sums_is_used(self):
        self.assertEqual(jars.ensure_maven_jars(self.dir, "thing-1", self.dir), self.home / "jars")

    def test_an_altered_missing_or_extra_jar_is_refused(self):
        for damage in (lambda: (self.home / "jars/a.jar").write_bytes(b"evil"),
                       lambda: (self.home / "jars/b.jar").unlink(),
                       lambda: (self.home / "jars/c.jar").write_bytes(b"new")):
            self.setUp()
            damage()
            with self.assertRaises(StackError):
                jars.ensure_maven_jars(self.dir, "thing-1", self.dir)

    def test_pom_properties(self):
        pom = self.dir / "pom.xml"
        pom.write_text("<project><properties><x.version>1.2.3</x.version></properties></project>")
        self.assertEqual(jars.pom_property(pom, "x.version"), "1.2.3")
        with self.assertRaises(StackError):
            jars.pom_property(pom, "y.version")


class Command(Temp):
    """scripts/stack run's command: its status back, a signal to the supervisor reaching all of it."""

    def supervisor(self, script):
        code = ("import os, sys; from mhfz_stack.command import supervise; "
                f"sys.exit(supervise(['sh', '-c', {script!r}], dict(os.environ)))")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        return subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL)

    def test_the_command_status_is_returned(self):
        self.assertEqual(self.supervisor("exit 7").wait(timeout=30), 7)

    def test_sigterm_reaches_what_the_command_started(self):
        started = self.dir / "grandchild.pid"
        supervisor = self.supervisor(f"sleep 300 & echo $! > {started}.tmp && mv {started}.tmp {started}; wait")
        self.addCleanup(supervisor.kill)
        deadline = time.monotonic() + 30
        while not started.exists():
            self.assertLess(time.monotonic(), deadline, "the command did not start its child")
            time.sleep(0.05)
        grandchild = int(started.read_text())
        self.addCleanup(lambda: procs.alive(grandchild) and os.kill(grandchild, signal.SIGKILL))
        supervisor.send_signal(signal.SIGTERM)
        self.assertEqual(supervisor.wait(timeout=30), 128 + signal.SIGTERM)
        deadline = time.monotonic() + 10
        while procs.alive(grandchild) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(procs.alive(grandchild), "the command's own child outlived the SIGTERM")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    unittest.main()
