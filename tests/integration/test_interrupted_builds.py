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

KILLS = 60
MINIMUM_EACH = 5
LBGEN = str(Path(sys.executable).with_name("lbgen"))


def _spec(tmp_path: Path, name: str, asn: int) -> tuple[Path, dict[str, str]]:
    """A 100-service spec (914 files); two ASNs make two trees that differ in every router,
    reflector and LB file."""
    text = spec_text(100).replace("asn: 64512", f"asn: {asn}")
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


def _timed_build(spec: Path, out: Path) -> float:
    start = time.monotonic()
    assert _build(spec, out).wait(timeout=300) == 0
    return time.monotonic() - start


def test_kill_9_at_random_points_leaves_the_old_or_the_new_tree(tmp_path: Path) -> None:
    spec_a, tree_a = _spec(tmp_path, "a", 64512)
    spec_b, tree_b = _spec(tmp_path, "b", 64513)
    out = tmp_path / "out" / "fabric"
    _timed_build(spec_b, out)
    # a whole rebuild, measured on this (busy) machine; kills land before and after the switch
    took = max(_timed_build(spec_a, out), _timed_build(spec_b, out), _timed_build(spec_a, out))
    rng = random.Random(20261126)
    states = {"old": 0, "new": 0}
    current, kills = tree_a, 0
    while kills < KILLS or min(states.values()) < MINIMUM_EACH:
        assert kills < 4 * KILLS, f"kills never landed on both sides of the switch: {states}"
        spec, wanted = (spec_b, tree_b) if current is tree_a else (spec_a, tree_a)
        process = _build(spec, out)
        time.sleep(rng.uniform(0.1, took * 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        found = _tree(out)
        assert found in (current, wanted), f"kill {kills}: a mixed tree"
        if found == wanted:
            states["new"] += 1
            current = wanted
        else:
            states["old"] += 1
            if kills % 10 == 0 and states["new"] == 0:
                took *= 1.5  # the builds got slower than measured
    assert _timed_build(spec_a, out) > 0
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
