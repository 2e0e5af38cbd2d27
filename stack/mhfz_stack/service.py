"""What every service of the stack is (one module per service implements it)."""

from . import procs


class Service:
    """name: the service's name in MHFZ_STACK_SERVICES and its directory in the state dir;
    ports: names of the TCP ports it needs (each picked free once and kept, stack.port(name))."""

    name = ""
    ports = ()

    def __init__(self, stack):
        self.stack = stack
        self.dir = stack.state / self.name

    def env(self):
        """The client variables it exports ({name: value})."""
        return {}

    def certificates(self):
        """The certificates it needs from the stack's CA (pki.request each), issued before any
        service starts (pki.ensure_certificates)."""
        return []

    def start(self):
        """Nothing to do when running; else start it and wait until it really answers."""
        raise NotImplementedError

    def stop(self):
        """Nothing of it left running."""
        raise NotImplementedError

    def status(self):
        """(running, one line for `scripts/stack status`)."""
        raise NotImplementedError

    def owned_pid(self, pidfile):
        return procs.owned_pid(pidfile, self.stack.state)
