"""Real `lbgen build` processes killed at random points, and run against each other: out/ is
always the complete old tree or the complete new one, and the next build cleans up after them."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.compile import spec_text
from lbgen.compiler import compile_text
from lbgen.output import with_manifest

KILLS = 50
MINIMUM_EACH = 5
LBGEN = str(Path(sys.executable).with_name("lbgen"))


def _spec(tmp_path: Path, name: str, asn: int) -> tuple[Path, dict[str, str]]:
    """A 30-service spec (599 files); two ASNs make two trees that differ in every router,
    reflector and LB file."""
    text = spec_text(30).replace("asn: 64512", f"asn: {asn}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    result = compile_text(text, path.name)
    assert result.tree is not None
    return path, with_manifest(result.tree)


def _tree(folder: Path) -> dict[str, str] | None:
    if not folder.exists():
        return None
    return {
        p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()
    }


def _build(spec: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [LBGEN, "build", str(spec), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=spec.parent,
    )


def _staging(out: Path) -> Path:
    return out.parent / f".{out.name}.lbgen-new"


def _until_writing(process: subprocess.Popen[bytes], out: Path, *, leftover: bool) -> bool:
    """Wait until the build starts staging its tree (True), or ends first (False). A staging
    folder a killed build left is first removed by this one's repair."""
    deadline = time.monotonic() + 120
    for wanted in (False, True) if leftover else (True,):
        while _staging(out).exists() is not wanted:
            if process.poll() is not None:
                return False
            assert time.monotonic() < deadline, "the build never started writing"
            time.sleep(0.002)
    return True


def _write_window(spec: Path, out: Path) -> float:
    """How long a build writes: from its staging folder appearing to its exit."""
    process = _build(spec, out)
    assert _until_writing(process, out, leftover=False)
    start = time.monotonic()
    assert process.wait(timeout=120) == 0
    return time.monotonic() - start


def test_kill_9_at_random_points_leaves_the_old_or_the_new_tree(tmp_path: Path) -> None:
    """Each build is killed at a random point of its write phase (staging, the switch, the
    clean-up) and sometimes just after: the tree is always the old one or the new one."""
    spec_a, tree_a = _spec(tmp_path, "a", 64512)
    spec_b, tree_b = _spec(tmp_path, "b", 64513)
    out = tmp_path / "out" / "fabric"
    assert _build(spec_b, out).wait(timeout=120) == 0
    window = max(_write_window(spec_a, out), _write_window(spec_b, out))
    rng = random.Random(20261126)
    states = {"old": 0, "new": 0}
    current = tree_b
    for kill in range(KILLS):
        spec, wanted = (spec_b, tree_b) if current is tree_a else (spec_a, tree_a)
        leftover = _staging(out).exists()
        process = _build(spec, out)
        if _until_writing(process, out, leftover=leftover):
            time.sleep(rng.uniform(0, window * 2.5))
            process.send_signal(signal.SIGKILL)
        process.wait()
        found = _tree(out)
        assert found in (current, wanted), f"kill {kill}: a mixed tree"
        states["new" if found == wanted else "old"] += 1
        current = wanted if found == wanted else current
        if kill % 5 == 4:
            # a busy machine writes slower (or faster) than it measured: keep the kills on both
            # sides of the switch, each side at least a third of them so far
            done = kill + 1
            if states["new"] < done / 3:
                window *= 1.5
            elif states["old"] < done / 3:
                window /= 1.5
    # the kills landed on both sides of the switch
    assert min(states.values()) >= MINIMUM_EACH, states
    assert _build(spec_a, out).wait(timeout=120) == 0
    assert _tree(out) == tree_a
    assert [p.name for p in out.parent.iterdir()] == ["fabric"]


def test_two_builds_of_different_specs_into_one_folder_take_turns(tmp_path: Path) -> None:
    spec_a, tree_a = _spec(tmp_path, "a", 64512)
    spec_b, tree_b = _spec(tmp_path, "b", 64513)
    out = tmp_path / "out" / "fabric"
    for _round in range(8):
        first, second = _build(spec_a, out), _build(spec_b, out)
        codes = (first.wait(timeout=120), second.wait(timeout=120))
        assert codes == (0, 0)
        assert _tree(out) in (tree_a, tree_b)
        assert [p.name for p in out.parent.iterdir()] == ["fabric"]
