"""scripts/stack: the local service stack on 127.0.0.1, with every byte of state outside the repository.

  scripts/stack start              start the services (those running: nothing to do)
  scripts/stack stop               stop every service; no process is left behind
  scripts/stack status             say what runs; exit status 3 when a selected service is down
  scripts/stack env                print the connection variables as shell `export` lines
  scripts/stack run -- CMD ARGS... start, run CMD with those variables, always stop; CMD's status

Services: $MHFZ_STACK_SERVICES (default pg kafka hadoop hive), started in that order, stopped in
reverse. State: $MHFZ_STACK_DIR. Jars: $MHFZ_CACHE_DIR. See stack/README.md.
"""

import os
import signal
import sys

from .command import supervise
from .errors import StackError, note
from .stack import REPO, Stack


def usage():
    print("usage:\n" + __doc__.split("\n\n")[1], file=sys.stderr)
    return 2


class Terminated(BaseException):
    """SIGTERM or SIGHUP during a start: unwinds like Ctrl-C, so the stack is stopped."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, _frame):
    raise Terminated(signum)


def run(stack, command):
    """Start, run command with the stack's variables, always stop; the command's exit status."""
    lock = stack.lock()
    try:
        stack.start()
        # The lock is for start and stop only: the command may call scripts/stack itself.
        lock.release()
        return supervise(command, {**os.environ, **stack.environment()})
    finally:
        lock.acquire()
        stack.stop()
        lock.release()


def main(argv):
    if not argv:
        return usage()
    command, rest = argv[0], argv[1:]
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_terminated)
    try:
        if command in ("start", "stop", "status", "env") and rest:
            return usage()
        if command == "run":
            if len(rest) < 2 or rest[0] != "--":
                return usage()
            return run(Stack(REPO, os.environ, create=True), rest[1:])
        if command == "start":
            stack = Stack(REPO, os.environ, create=True)
            lock = stack.lock()
            try:
                stack.start()
            finally:
                lock.release()
            return 0
        if command == "stop":
            stack = Stack(REPO, os.environ)
            if not stack.state.is_dir():
                return 0
            lock = stack.lock()
            try:
                stack.stop()
            finally:
                lock.release()
            return 0
        if command == "status":
            return 0 if Stack(REPO, os.environ).status() else 3
        if command == "env":
            sys.stdout.write(Stack(REPO, os.environ).env_lines())
            return 0
        return usage()
    except StackError as error:
        note(str(error))
        return 1
    except KeyboardInterrupt:
        return 130
    except Terminated as error:
        return 128 + error.signum


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
