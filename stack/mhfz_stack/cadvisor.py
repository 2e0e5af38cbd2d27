"""cAdvisor, built from its library on the Go module proxy (tools/cadvisor: Debian bookworm does not
package it, and the proxy does not serve cAdvisor's own command): the static binary the cadvisor
role installs (scripts/artifacts packs it) and the stack's monitoring service runs.

  python -m mhfz_stack.cadvisor lint      gofmt-clean and go vet-clean (make lint)
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import StackError, note

SOURCE = "tools/cadvisor"


def version(repo):
    """The version of the cAdvisor library tools/cadvisor/go.mod requires."""
    go_mod = Path(repo) / SOURCE / "go.mod"
    match = re.search(r"^\s*github\.com/google/cadvisor v(\S+)$", go_mod.read_text(), re.M)
    if not match:
        raise StackError(f"no github.com/google/cadvisor requirement in {go_mod}")
    return match.group(1)


def home(repo, cache):
    """CACHE/cadvisor-VERSION-DIGEST, DIGEST the first 12 hex digits of the SHA-256 of go.mod, go.sum
    and the *.go files, in that order: any change to the source builds into a new directory."""
    src = Path(repo) / SOURCE
    digest = hashlib.sha256()
    for path in [src / "go.mod", src / "go.sum", *sorted(src.glob("*.go"))]:
        digest.update(path.read_bytes())
    return Path(cache) / f"cadvisor-{version(repo)}-{digest.hexdigest()[:12]}"


def go(repo, cache, *args):
    """The go command in tools/cadvisor, its output on stderr: the local toolchain only, modules
    only as go.sum pins them (their checksums are checked on download), cached under CACHE/go,
    no cgo (a static binary). Returns its exit status."""
    if shutil.which("go") is None:
        raise StackError(f"go not found: it builds cAdvisor ({SOURCE}) from the Go module proxy")
    env = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly",
           "GOMODCACHE": str(Path(cache) / "go/mod"), "GOCACHE": str(Path(cache) / "go/build")}
    return subprocess.run(["go", *args], cwd=Path(repo) / SOURCE, env=env, stdout=sys.stderr,
                          stdin=subprocess.DEVNULL).returncode


def ensure(repo, cache):
    """The static binary (CACHE/cadvisor-VERSION-DIGEST/cadvisor), built once per source: stripped,
    without build paths or build id, so the same source gives the same binary."""
    directory = home(repo, cache)
    binary = directory / "cadvisor"
    if binary.is_file():
        return binary
    note(f"building cAdvisor {version(repo)} ({SOURCE}) into {directory}")
    tmp = directory.with_name(f"{directory.name}.tmp.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if go(repo, cache, "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", str(tmp / "cadvisor"), ".") != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StackError(f"go build of {SOURCE} failed (output above)")
    shutil.rmtree(directory, ignore_errors=True)
    tmp.rename(directory)
    return binary


def lint(repo, cache):
    """gofmt-clean (else its diff on stderr) and go vet-clean."""
    src = Path(repo) / SOURCE
    unformatted = subprocess.run(["gofmt", "-l", str(src)], capture_output=True, text=True, check=True).stdout
    if unformatted.strip():
        subprocess.run(["gofmt", "-d", str(src)], stdout=sys.stderr)
        raise StackError(f"not gofmt-formatted: {unformatted.strip()}")
    if go(repo, cache, "vet", ".") != 0:
        raise StackError(f"go vet finds problems in {SOURCE} (above)")


def main(argv):
    from .stack import REPO, cache_dir

    if argv != ["lint"]:
        print("usage: python -m mhfz_stack.cadvisor lint", file=sys.stderr)
        return 2
    try:
        lint(REPO, cache_dir(os.environ))
    except StackError as error:
        note(str(error), "cadvisor")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
