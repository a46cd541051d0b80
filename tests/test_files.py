"""Output folders survive interrupts and kills: the previous complete run or the new one, never
a mixture (real ``care15`` subprocesses, interrupted with SIGINT and killed with SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from care15._files import atomic_file, write_text_atomic

CARE15 = Path(sys.executable).parent / "care15"
pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory):
    """A complete demo run (English, no basemap) whose folder the tests run into again."""
    base = tmp_path_factory.mktemp("prev")
    out = base / "out"
    env = {**os.environ, "CARE15_CACHE": str(base / "cache")}
    r = subprocess.run([str(CARE15), "demo", "--out", str(out), "--lang", "en", "--quiet"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    return out, env


def _copy(src: Path, dst: Path) -> None:
    for rel, data in _snapshot(src).items():
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        (dst / rel).write_bytes(data)


def _default_sigint() -> None:
    """In the child before it starts: Ctrl-C handled as in a terminal.

    A process started with SIGINT ignored keeps ignoring it (Python then installs no
    KeyboardInterrupt handler), and the test process may have inherited an ignored SIGINT
    from whatever started it or from an earlier test's library.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(out: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    # another language: every file of this run would differ from the previous one
    return subprocess.Popen([str(CARE15), "demo", "--out", str(out), "--lang", "zh"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=_default_sigint)


def test_ctrl_c_keeps_the_previous_run_and_says_so(tmp_path, previous_run):
    prev, env = previous_run
    out = tmp_path / "out"
    _copy(prev, out)
    before = _snapshot(out)
    p = _start(out, env)
    # interrupt once the work has begun: at the first step's line (a fixed sleep could land in
    # Python's own start-up, on a busy machine, where the interpreter swallows the signal)
    assert p.stderr is not None
    head = []
    while p.poll() is None:
        line = p.stderr.readline()
        head.append(line)
        if "读取路网" in line or not line:
            break
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    _, rest = p.communicate(timeout=300)
    err = "".join(head) + rest
    assert p.returncode == 130, err[-2000:]
    assert "已中断" in err and "上一次完整运行" in err  # the console's language (zh default)
    assert "Traceback" not in err
    assert _snapshot(out) == before  # nothing of the interrupted run
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]  # no staging, no lock


def test_kill_9_while_writing_then_the_next_run_cleans_up(tmp_path, previous_run):
    prev, env = previous_run
    out = tmp_path / "out"
    _copy(prev, out)
    before = _snapshot(out)
    p = _start(out, env)
    deadline = time.monotonic() + 300
    staged = []
    while time.monotonic() < deadline and p.poll() is None:
        staged = list(tmp_path.glob(".out.staging-*"))
        if staged and any(staged[0].iterdir()):  # writing has begun
            break
        time.sleep(0.05)
    assert staged, "the run never started writing"
    p.kill()
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL
    assert _snapshot(out) == before  # the previous complete run, untouched
    assert list(tmp_path.glob(".out.staging-*")) and (tmp_path / ".out.lock").exists()
    # the next run is not blocked by the dead run's lock and removes its leftovers
    r = subprocess.run([str(CARE15), "demo", "--out", str(out), "--lang", "zh", "--quiet"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]
    after = _snapshot(out)
    assert set(after) == set(before) and after["summary.json"] != before["summary.json"]


def test_atomic_writers_leave_the_old_file_on_error(tmp_path):
    target = tmp_path / "a.txt"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_file(target, "w", encoding="utf-8") as f:
        f.write("half")
        raise RuntimeError("stop")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_second_run_into_the_same_folder_stops_at_once(tmp_path, previous_run):
    _, env = previous_run
    out = tmp_path / "out"
    first = _start(out, env)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / ".out.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        t0 = time.monotonic()
        r = subprocess.run([str(CARE15), "demo", "--out", str(out), "--quiet", "--lang", "en"],
                           capture_output=True, text=True, timeout=300, env=env)
        assert r.returncode == 2, r.stderr[-2000:]
        assert "another care15 run" in r.stderr and f"process {first.pid}" in r.stderr
        assert time.monotonic() - t0 < 60  # refused before reading or analysing anything
    finally:
        _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    assert (out / "summary.json").is_file()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]
