"""Messages and the one error the supervisor reports (`stack: ...` on stderr)."""

import sys


class StackError(Exception):
    """A failure to report to the user as is, without a traceback."""


def note(message, who="stack"):
    print(f"{who}: {message}", file=sys.stderr, flush=True)
