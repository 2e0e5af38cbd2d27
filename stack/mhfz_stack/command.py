"""The command `scripts/stack run` runs while the stack is up.

It runs in a process group of its own, so a signal to the supervisor reaches everything the
command started (a shell's children too), not its first process only. In a terminal that group
is made the foreground one: Ctrl-C and reads from the terminal reach the command directly."""

import os
import signal
import subprocess

from .errors import StackError

PASSED_ON = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _terminal_is_ours():
    try:
        return os.tcgetpgrp(0) == os.getpgrp()
    except OSError:  # stdin is not a terminal
        return False


def _own_group(take_terminal):
    """In the child before exec: a process group of its own, the terminal's foreground one when
    the supervisor held the terminal (done before exec, so the command never reads it from the
    background)."""

    def preexec():
        os.setpgid(0, 0)
        if take_terminal:
            signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            os.tcsetpgrp(0, os.getpgrp())
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)

    return preexec


def _take_terminal_back():
    # A background group taking the terminal back is stopped by SIGTTOU unless it ignores it.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(0, os.getpgrp())
    finally:
        signal.signal(signal.SIGTTOU, previous)


def supervise(command, env):
    """Run command with env until it ends and return its exit status (128+N when killed by signal
    N). SIGINT, SIGTERM and SIGHUP to the supervisor go to the command's whole process group.
    Every other child that ends meanwhile is reaped (the stack's daemons are children too: a test
    may kill one, and it must be gone, not a zombie that still looks present)."""
    child = None
    pending = []

    def pass_on(signum, _frame):
        if child is None:
            pending.append(signum)
            return
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:  # the group is gone: the command has just ended
            pass

    # Installed before the command starts, so it starts with these signals' default actions
    # (a background job of a script would otherwise inherit SIGINT ignored).
    previous = {sig: signal.signal(sig, pass_on) for sig in PASSED_ON}
    terminal = _terminal_is_ours()
    try:
        try:
            child = subprocess.Popen(command, env=env, preexec_fn=_own_group(terminal))
        except OSError as error:
            raise StackError(f"cannot run {command[0]}: {error}") from None
        for signum in pending:
            pass_on(signum, None)
        while True:
            pid, status = os.waitpid(-1, 0)
            if pid == child.pid:
                code = os.waitstatus_to_exitcode(status)
                return 128 - code if code < 0 else code
    finally:
        if terminal:
            _take_terminal_back()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
