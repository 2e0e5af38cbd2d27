"""scripts/artifacts: prepares, on the Ansible controller, everything the platform's hosts install,
so that installs need no internet on the hosts: one tarball per component with a SHA-256 manifest.

  scripts/artifacts [DIR]    fill DIR and print its path
DIR: $MHFZ_ARTIFACT_DIR, else $MHFZ_CACHE_DIR/artifacts (the cache: stack/README.md).

  kafka-VER.tar.gz           kafka-VER/lib/*.jar             (stack/kafka/pom.xml)
  hadoop-VER.tar.gz          hadoop-VER/lib/*.jar, web/      (stack/hadoop/pom.xml; web/ goes on the
                             daemons' classpath: the HDFS web app directories the jars lack)
  hive-VER.tar.gz            hive-VER/lib/*.jar              (stack/hive/pom.xml: HiveServer2 and beeline)
  hive-metastore-VER.tar.gz  hive-metastore-VER/lib/*.jar, scripts/  (Hive's standalone metastore
                             distribution: metastore service, schema tool, its SQL scripts and
                             the PostgreSQL JDBC driver they load)
  jmx_prometheus_javaagent-VER.jar                           (the Prometheus JMX exporter agent)
  mhfz-pipeline-VER.tar.gz   mhfz-pipeline-VER/bin/mhfz-*    (static release binaries, built here)
  cadvisor-VER.tar.gz        cadvisor-VER/bin/cadvisor       (static, built here from tools/cadvisor)
  versions.env               KAFKA_VERSION=... for roles and scripts
  SHA256SUMS                 every file above

The versions and jars are the local stack's (the same poms, the same cache: jars.cache_for), so
tests and deployments run the same software. Tarballs are reproducible: GNU tar with sorted names,
owner 0, mtime 0 and normalised modes, then gzip -n; preparing again with unchanged inputs gives
identical files (none is even rewritten), and a converged host stays unchanged.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from . import cadvisor, jars
from .errors import StackError, note

# The release binaries' directory under the cargo target dir (.cargo/config.toml links them statically).
RELEASE = "x86_64-unknown-linux-gnu/release"


def inputs_digest(sources):
    """What a tarball is made of, as one line: the SHA-256 of "SUBDIR HASH  ./PATH" lines, one per
    regular file of each source (SUBDIR, DIRECTORY), in path order (the stamp's format is the former
    shell script's: `find . -type f | sort | xargs sha256sum`, so its stamps stay valid)."""
    lines = []
    for subdir, directory in sources:
        files = sorted(f"./{path.relative_to(directory)}" for path in Path(directory).rglob("*")
                       if path.is_file() and not path.is_symlink())
        lines += [f"{subdir} {jars.sha256(Path(directory) / name)}  {name}\n" for name in files]
    return f"{hashlib.sha256(''.join(lines).encode()).hexdigest()}  -\n"


def pack(out, name, sources):
    """out/NAME.tar.gz holding NAME/, the contents of each source (SUBDIR, DIRECTORY) copied into
    NAME/SUBDIR (two sources may fill one SUBDIR). Rebuilt only when the sources' files changed since
    the last time (out/.NAME.inputs holds their digest). Returns whether it was (re)built."""
    out = Path(out)
    tarball, stamp = out / f"{name}.tar.gz", out / f".{name}.inputs"
    inputs = inputs_digest(sources)
    if tarball.is_file() and stamp.is_file() and stamp.read_text() == inputs:
        return False
    note(f"packing {tarball.name}", "artifacts")
    with tempfile.TemporaryDirectory(prefix=".pack.", dir=out) as tmp:
        for subdir, directory in sources:
            shutil.copytree(directory, Path(tmp) / name / subdir, symlinks=True, dirs_exist_ok=True)
        packed = Path(tmp) / tarball.name
        with open(packed, "wb") as f:
            tar = subprocess.Popen(
                ["tar", "-C", tmp, "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
                 "--mode=u+rwX,go+rX,go-w", "-cf", "-", name], stdout=subprocess.PIPE)
            gzip = subprocess.run(["gzip", "-n"], stdin=tar.stdout, stdout=f)
            tar.stdout.close()
            if tar.wait() != 0 or gzip.returncode != 0:
                raise StackError(f"tar | gzip of {tarball.name} failed")
        packed.replace(tarball)
    stamp.write_text(inputs)
    return True


def pack_files(out, name, subdir, files):
    """pack() of single files (installed mode 0755, as executables) into NAME/SUBDIR."""
    with tempfile.TemporaryDirectory() as staging:
        for source, target in files:
            shutil.copyfile(source, Path(staging) / target)
            (Path(staging) / target).chmod(0o755)
        return pack(out, name, [(subdir, staging)])


def release_binaries(repo, environ):
    """(version, [(path, name)]): the workspace's version and every [[bin]] of it, built by
    `cargo build --release` (output on stderr; $CARGO_TARGET_DIR is cargo's, relative to repo)."""
    workspace = tomllib.loads((Path(repo) / "Cargo.toml").read_text()).get("workspace", {})
    version = workspace.get("package", {}).get("version")
    if not version:
        raise StackError(f"no version in [workspace.package] of {Path(repo) / 'Cargo.toml'}")
    note("building the release binaries", "artifacts")
    build = ["cargo", "build", "--release", "--locked", "--workspace", "--bins", "--quiet"]
    if subprocess.run(build, cwd=repo, stdout=sys.stderr, stdin=subprocess.DEVNULL).returncode != 0:
        raise StackError("cargo build --release failed (output above)")
    metadata = subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"], cwd=repo,
                              stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if metadata.returncode != 0:
        raise StackError("cargo metadata failed (output above)")
    names = [t["name"] for p in json.loads(metadata.stdout)["packages"] for t in p["targets"] if "bin" in t["kind"]]
    release = Path(repo) / (environ.get("CARGO_TARGET_DIR") or "target") / RELEASE
    return version, [(release / name, name) for name in names]


def write_manifest(out, versions):
    """versions.env (NAME=VERSION lines) and SHA256SUMS of every tarball, jar and versions.env in
    out (sha256sum's format), each written whole or not at all."""
    out = Path(out)
    (out / "versions.env.tmp").write_text("".join(f"{name}={value}\n" for name, value in versions.items()))
    (out / "versions.env.tmp").replace(out / "versions.env")
    files = sorted(out.glob("*.tar.gz")) + sorted(out.glob("*.jar")) + [out / "versions.env"]
    (out / "SHA256SUMS.tmp").write_text("".join(f"{jars.sha256(path)}  {path.name}\n" for path in files))
    (out / "SHA256SUMS.tmp").replace(out / "SHA256SUMS")


def prepare(repo, cache, out, environ):
    """Fills out (created when missing) with every artifact and the manifest."""
    cached = {name: jars.cache_for(repo, cache, name) for name in jars.POMS}
    for c in cached.values():
        c.ensure()
    kafka, hadoop, hive, jmx = (cached[name] for name in ("kafka", "hadoop", "hive", "jmx-exporter"))
    out.mkdir(parents=True, exist_ok=True)
    pack(out, f"kafka-{kafka.version}", [("lib", kafka.jars)])
    pack(out, f"hadoop-{hadoop.version}", [("lib", hadoop.jars), ("web", hadoop.pom_dir / "web")])
    pack(out, f"hive-{hive.version}", [("lib", hive.jars)])
    agent = f"jmx_prometheus_javaagent-{jmx.version}.jar"
    shutil.copyfile(jmx.jars / agent, out / f".{agent}.tmp")
    (out / f".{agent}.tmp").replace(out / agent)
    metastore = jars.ensure_hive_metastore_dist(cache, hive.version)
    pack(out, f"hive-metastore-{hive.version}", [("lib", metastore / "lib"), ("scripts", metastore / "scripts")])
    mhfz_version, binaries = release_binaries(repo, environ)
    pack_files(out, f"mhfz-pipeline-{mhfz_version}", "bin", binaries)
    cadvisor_version = cadvisor.version(repo)
    pack_files(out, f"cadvisor-{cadvisor_version}", "bin", [(cadvisor.ensure(repo, cache), "cadvisor")])
    write_manifest(out, {
        "KAFKA_VERSION": kafka.version, "HADOOP_VERSION": hadoop.version, "HIVE_VERSION": hive.version,
        "JMX_EXPORTER_VERSION": jmx.version, "MHFZ_VERSION": mhfz_version, "CADVISOR_VERSION": cadvisor_version,
    })


def main(argv):
    from .stack import REPO, cache_dir

    if len(argv) > 1 or argv in (["-h"], ["--help"]):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    cache = cache_dir(os.environ)
    out = Path(os.path.abspath(argv[0] if argv else os.environ.get("MHFZ_ARTIFACT_DIR") or cache / "artifacts"))
    try:
        prepare(REPO, cache, out, os.environ)
    except StackError as error:
        note(str(error), "artifacts")
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
