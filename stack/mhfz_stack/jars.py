"""Jars from Maven Central, cached outside the repository and checksummed: CACHE/NAME/jars/*.jar +
CACHE/NAME/SHA256SUMS (sha256sum's format), NAME after the pom (cache_for). The stack runs them,
scripts/artifacts packs the same ones for the roles."""

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import StackError, note


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pom_property(pom, name):
    """The value of <name> in a pom's <properties> (the version the cache directory is named after)."""
    match = re.search(rf"<{re.escape(name)}>([^<]+)</{re.escape(name)}>", Path(pom).read_text())
    if not match:
        raise StackError(f"no <{name}> in {pom}")
    return match.group(1).strip()


def pom_digest(pom):
    """The first 12 hex digits of the pom's SHA-256: a changed pom fetches into a new directory."""
    return sha256(pom)[:12]


# The poms whose dependencies are cached, by name: (their directory in the repository, the property
# holding the version the cache directory is named after).
POMS = {
    "kafka": ("stack/kafka", "kafka.version"),
    "hadoop": ("stack/hadoop", "hadoop.version"),
    "hive": ("stack/hive", "hive.version"),
    "jmx-exporter": ("ansible/artifacts/jmx-exporter", "jmx-exporter.version"),
}


@dataclass(frozen=True)
class Cached:
    """The jars of one pom: version, pom_dir, home (the cache
    directory), jars (home/jars, where they are once ensure() has run)."""

    version: str
    pom_dir: Path
    home: Path

    @property
    def jars(self):
        return self.home / "jars"

    def ensure(self):
        """The jars, fetched when missing, checked (ensure_maven_jars); returns the jars directory."""
        return ensure_maven_jars(self.home.parent, self.home.name, self.pom_dir)


def cache_for(repo, cache, name):
    """Where the jars of the pom named name (POMS) are cached: CACHE/NAME-VERSION-DIGEST, DIGEST the
    first 12 hex digits of the pom's SHA-256 (pom_digest), so any change to the pom fetches into a
    new directory."""
    directory, version_property = POMS[name]
    pom_dir = Path(repo) / directory
    version = pom_property(pom_dir / "pom.xml", version_property)
    return Cached(version, pom_dir, Path(cache) / f"{name}-{version}-{pom_digest(pom_dir / 'pom.xml')}")


def verify(home):
    """Every jar of home/jars matches home/SHA256SUMS, and no jar is missing or extra."""
    sums = home / "SHA256SUMS"
    jars = home / "jars"
    listed = {}
    for line in sums.read_text().splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    present = {p.name for p in jars.glob("*.jar")}
    if present != set(listed):
        raise StackError(
            f"{jars} holds {len(present)} jars, SHA256SUMS lists {len(listed)}; remove {home} to fetch them again"
        )
    for name, digest in listed.items():
        if sha256(jars / name) != digest:
            raise StackError(f"{jars / name} does not match {sums}; remove {home} to fetch them again")


def ensure_maven_jars(cache, name, pom_dir):
    """The dependencies of pom_dir/pom.xml in cache/name/jars (returned): fetched once (Maven checks
    Central's checksums: -C), their SHA-256 sums recorded then and checked at every later call."""
    home = Path(cache) / name
    if (home / "SHA256SUMS").is_file():
        verify(home)
        return home / "jars"
    if shutil.which("mvn") is None:
        raise StackError(f"mvn not found: it fetches the {name} jars from Maven Central")
    note(f"fetching {name} jars into {home}")
    tmp = home.with_name(f"{home.name}.tmp.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "jars").mkdir(parents=True)
    result = subprocess.run(
        ["mvn", "-B", "-q", "-C", "-f", str(Path(pom_dir) / "pom.xml"), "dependency:copy-dependencies",
         f"-DoutputDirectory={tmp / 'jars'}"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )
    if result.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StackError(f"mvn could not fetch the {name} jars:\n{result.stdout}{result.stderr}")
    lines = [f"{sha256(jar)}  {jar.name}\n" for jar in sorted((tmp / "jars").glob("*.jar"))]
    (tmp / "SHA256SUMS").write_text("".join(lines))
    shutil.rmtree(home, ignore_errors=True)
    tmp.rename(home)
    return home / "jars"


def ensure_hive_metastore_dist(cache, version):
    """Hive's standalone metastore distribution in cache/hive-metastore-VERSION (returned): its lib/
    (the metastore service, the schema tool and the sqlline it runs) and scripts/ (the schema's SQL,
    which no jar carries). Fetched once from Maven Central (Maven checks its checksum: -C) into a
    temporary directory that is renamed into place, as scripts/artifacts does."""
    home = Path(cache) / f"hive-metastore-{version}"
    if (home / "lib").is_dir() and (home / "scripts").is_dir():
        return home
    if shutil.which("mvn") is None:
        raise StackError("mvn not found: it fetches the Hive standalone metastore from Maven Central")
    note(f"fetching the Hive {version} standalone metastore into {home}")
    tmp = home.with_name(f"{home.name}.tmp.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tarball = tmp / f"hive-standalone-metastore-server-{version}-bin.tar.gz"
    top = f"apache-hive-metastore-{version}-bin"
    for argv in (
        ["mvn", "-B", "-q", "-C", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
         f"-Dartifact=org.apache.hive:hive-standalone-metastore-server:{version}:tar.gz:bin", f"-DoutputDirectory={tmp}"],
        ["tar", "-C", str(tmp), "--strip-components=1", "-xzf", str(tarball), f"{top}/lib", f"{top}/scripts"],
    ):
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if result.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StackError(f"could not fetch the Hive standalone metastore ({argv[0]}):\n{result.stdout}{result.stderr}")
    tarball.unlink()
    shutil.rmtree(home, ignore_errors=True)
    tmp.rename(home)
    return home
