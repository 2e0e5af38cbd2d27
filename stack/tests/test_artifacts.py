"""scripts/artifacts' own logic (stack/mhfz_stack/artifacts.py, cadvisor.py, jars.cache_for), on real
files, GNU tar and gzip (no jar is fetched, nothing is built):
  PYTHONPATH=stack python3 -m unittest discover -s stack/tests     (make lint runs it)"""

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mhfz_stack import artifacts, cadvisor, jars  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


class Temp(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="mhfz-artifacts-unit.")).resolve()
        self.addCleanup(shutil.rmtree, self.dir)

    def tree(self, name, files):
        """A directory of files {relative path: (content, mode)}."""
        root = self.dir / name
        for path, (content, mode) in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(content)
            (root / path).chmod(mode)
        return root


class Pack(Temp):
    def setUp(self):
        super().setUp()
        self.lib = self.tree("lib", {"b.jar": (b"b" * 500, 0o600), "a.jar": (b"a" * 500, 0o664)})
        self.web = self.tree("web", {"webapps/hdfs/index.html": (b"<html/>", 0o644), "run": (b"#!/bin/sh\n", 0o700)})
        self.more = self.tree("more", {"c.jar": (b"c", 0o644)})
        self.out = self.dir / "out"
        self.out.mkdir()

    def sources(self):
        return [("lib", self.lib), ("web", self.web), ("lib", self.more)]

    def test_the_tarball_is_sorted_owned_by_0_dated_0_with_normalised_modes(self):
        self.assertTrue(artifacts.pack(self.out, "thing-1", self.sources()))
        tarball = self.out / "thing-1.tar.gz"
        header = tarball.read_bytes()[:10]
        self.assertEqual(header[4:8], b"\0\0\0\0", "gzip header with an mtime")
        self.assertEqual(header[3] & 0x08, 0, "gzip header with a file name")
        with tarfile.open(tarball) as tar:
            members = tar.getmembers()
        self.assertEqual([m.name for m in members], [
            "thing-1", "thing-1/lib", "thing-1/lib/a.jar", "thing-1/lib/b.jar", "thing-1/lib/c.jar", "thing-1/web",
            "thing-1/web/run", "thing-1/web/webapps", "thing-1/web/webapps/hdfs", "thing-1/web/webapps/hdfs/index.html"])
        for m in members:
            self.assertEqual((m.uid, m.gid, m.uname, m.gname, m.mtime), (0, 0, "", "", 0), m.name)
            self.assertEqual(m.mode, 0o755 if m.isdir() or m.name.endswith("/run") else 0o644, m.name)

    def test_same_inputs_give_the_same_bytes_whatever_their_dates_and_places(self):
        artifacts.pack(self.out, "thing-1", self.sources())
        first = (self.out / "thing-1.tar.gz").read_bytes()
        copies = self.dir / "copies"
        for name in ("lib", "web", "more"):
            shutil.copytree(self.dir / name, copies / name)
        os.utime(copies / "lib/a.jar", (1_000_000, 1_000_000))
        other = self.dir / "other"
        other.mkdir()
        artifacts.pack(other, "thing-1", [("lib", copies / "lib"), ("web", copies / "web"), ("lib", copies / "more")])
        self.assertEqual((other / "thing-1.tar.gz").read_bytes(), first)

    def test_rebuilt_only_when_an_input_changed(self):
        self.assertTrue(artifacts.pack(self.out, "thing-1", self.sources()))
        tarball = self.out / "thing-1.tar.gz"
        before = tarball.stat()
        os.utime(self.lib / "a.jar", (1_000_000, 1_000_000))  # a date is not a change
        self.assertFalse(artifacts.pack(self.out, "thing-1", self.sources()))
        self.assertEqual(tarball.stat().st_ino, before.st_ino)
        for change in (lambda: (self.lib / "a.jar").write_bytes(b"changed"),
                       lambda: (self.web / "webapps/new.html").write_bytes(b"new"),
                       lambda: (self.lib / "b.jar").unlink()):
            change()
            self.assertTrue(artifacts.pack(self.out, "thing-1", self.sources()))
            with tarfile.open(tarball) as tar:
                names = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
            self.assertEqual(names, {f"thing-1/{path.relative_to(self.dir).as_posix().replace('more/', 'lib/')}":
                                     path.read_bytes() for path in (*self.lib.rglob("*.jar"), self.more / "c.jar",
                                                                    *[p for p in self.web.rglob("*") if p.is_file()])})
        # A tarball removed or damaged by hand is made again even if its inputs did not change.
        tarball.unlink()
        self.assertTrue(artifacts.pack(self.out, "thing-1", self.sources()))
        self.assertEqual(sorted(p.name for p in self.out.iterdir()), [".thing-1.inputs", "thing-1.tar.gz"])

    def test_the_stamp_is_the_former_shell_scripts(self):
        script = ('for spec in "$@"; do (cd "${spec#*=}" && find . -type f -print0 | sort -z | xargs -0 sha256sum | '
                  'sed "s|^|${spec%%=*} |"); done | sha256sum')
        shell = subprocess.run(["bash", "-c", script, "stamp", f"lib={self.lib}", f"web={self.web}", f"lib={self.more}"],
                               capture_output=True, text=True, check=True)
        self.assertEqual(artifacts.inputs_digest(self.sources()), shell.stdout)

    def test_executables_are_packed_0755(self):
        artifacts.pack_files(self.out, "tool-2", "bin", [(self.lib / "b.jar", "tool")])
        with tarfile.open(self.out / "tool-2.tar.gz") as tar:
            self.assertEqual(tar.getmember("tool-2/bin/tool").mode, 0o755)


class Manifest(Temp):
    def test_sha256sums_lists_tarballs_then_jars_then_versions_as_sha256sum_does(self):
        out = self.tree("out", {"b-1.tar.gz": (b"b", 0o644), "a-1.tar.gz": (b"a", 0o644), "x-1.jar": (b"x", 0o644),
                                ".a-1.inputs": (b"stamp", 0o644)})
        artifacts.write_manifest(out, {"A_VERSION": "1", "X_VERSION": "1"})
        self.assertEqual((out / "versions.env").read_text(), "A_VERSION=1\nX_VERSION=1\n")
        expected = subprocess.run("sha256sum -- *.tar.gz *.jar versions.env", shell=True, cwd=out,
                                  capture_output=True, text=True, check=True).stdout
        self.assertEqual((out / "SHA256SUMS").read_text(), expected)
        check = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=out, capture_output=True)
        self.assertEqual(check.returncode, 0)


class CacheNames(Temp):
    def repo(self, pom):
        repo = self.dir / "repo"
        (repo / "stack/kafka").mkdir(parents=True, exist_ok=True)
        (repo / "stack/kafka/pom.xml").write_text(pom)
        return repo

    def test_named_after_the_version_and_the_pom(self):
        pom = "<project><properties><kafka.version>9.9</kafka.version></properties></project>"
        cached = jars.cache_for(self.repo(pom), self.dir / "cache", "kafka")
        digest = subprocess.run(["sha256sum", str(self.dir / "repo/stack/kafka/pom.xml")], capture_output=True,
                                text=True).stdout[:12]
        self.assertEqual(cached.home, self.dir / "cache" / f"kafka-9.9-{digest}")
        self.assertEqual((cached.version, cached.jars), ("9.9", cached.home / "jars"))
        changed = jars.cache_for(self.repo(pom.replace("<project>", "<project> ")), self.dir / "cache", "kafka")
        self.assertNotEqual(changed.home, cached.home)

    def test_every_pom_of_the_repository_has_its_directory(self):
        homes = {name: jars.cache_for(REPO, self.dir, name).home.name for name in jars.POMS}
        self.assertRegex(homes["jmx-exporter"], r"^jmx-exporter-\d+\.\d+\.\d+-[0-9a-f]{12}$")
        self.assertEqual(len(set(homes.values())), len(homes))

    def test_a_fetched_metastore_distribution_is_used_as_it_is(self):
        home = self.tree("hive-metastore-9.9", {"lib/a.jar": (b"a", 0o644), "scripts/x.sql": (b"x", 0o644)})
        self.assertEqual(jars.ensure_hive_metastore_dist(self.dir, "9.9"), home)


class Cadvisor(Temp):
    def source(self, go_files):
        src = self.dir / "repo" / cadvisor.SOURCE
        src.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / cadvisor.SOURCE / "go.mod", src)
        shutil.copy(REPO / cadvisor.SOURCE / "go.sum", src)
        for name, text in go_files.items():
            (src / name).write_text(text)
        return self.dir / "repo"

    def test_the_build_directory_is_named_as_the_former_shell_script_named_it(self):
        repo = self.source({"main.go": "package main\n", "b.go": "package main // b\n"})
        shell = subprocess.run("cat go.mod go.sum ./*.go | sha256sum | cut -c1-12", shell=True, executable="bash",
                               cwd=repo / cadvisor.SOURCE, capture_output=True, text=True, check=True).stdout.strip()
        version = cadvisor.version(REPO)
        self.assertEqual(cadvisor.home(repo, self.dir), self.dir / f"cadvisor-{version}-{shell}")

    def test_a_changed_source_builds_afresh_an_unchanged_one_is_used(self):
        repo = self.source({"main.go": "package main\n"})
        home = cadvisor.home(repo, self.dir)
        home.mkdir()
        (home / "cadvisor").write_bytes(b"built")
        self.assertEqual(cadvisor.ensure(repo, self.dir), home / "cadvisor")  # no go needed
        (repo / cadvisor.SOURCE / "main.go").write_text("package main // changed\n")
        self.assertNotEqual(cadvisor.home(repo, self.dir), home)


if __name__ == "__main__":
    unittest.main()
