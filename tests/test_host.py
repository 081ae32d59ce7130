"""The one seam for side effects: real runs stream and log, removals stay inside allowed roots."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from flaskdesk.errors import FlaskdeskError
from flaskdesk.host import Call, Host, HostError, RecordingHost


def test_run_streams_lines_to_callback_and_log(tmp_path: Path) -> None:
    seen: list[str] = []
    log = tmp_path / "out.log"
    code = "import sys; print('one'); print('two', file=sys.stderr); print('three'); sys.exit(4)"
    result = Host().run([sys.executable, "-c", code], log_file=log, on_line=seen.append)
    assert result.returncode == 4
    assert seen == ["one", "two", "three"]  # stderr is merged in order (unbuffered prints, one process)
    assert result.stdout == "one\ntwo\nthree"
    assert log.read_text() == "one\ntwo\nthree\n"


def test_run_uses_cwd_and_replaces_env(tmp_path: Path) -> None:
    code = "import os; print(os.getcwd()); print(os.environ.get('FD_X')); print(os.environ.get('HOME'))"
    env = {"FD_X": "42", "PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1"}
    result = Host().run([sys.executable, "-c", code], cwd=tmp_path, env=env)
    assert result.stdout.splitlines() == [str(tmp_path), "42", "None"]


def test_run_missing_program_is_a_flaskdesk_error(tmp_path: Path) -> None:
    with pytest.raises(HostError, match="not found") as info:
        Host().run([str(tmp_path / "no-such-program")])
    assert isinstance(info.value, FlaskdeskError)


def test_which() -> None:
    assert Host().which("sh") is not None
    assert Host().which("surely-not-a-program-xyz") is None


def test_rmtree_removes_inside_allowed_root(tmp_path: Path) -> None:
    root = tmp_path / "build"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f.txt").write_text("x")
    (root / "file.txt").write_text("x")
    host = Host(allowed_roots=[root])
    host.rmtree(root / "a")
    host.rmtree(root / "file.txt")
    host.rmtree(root / "missing")  # absent: nothing to do
    assert list(root.iterdir()) == []


@pytest.mark.parametrize("relative", ["build", ".", "elsewhere/x", "build/../elsewhere"])
def test_rmtree_refuses_outside_or_the_root_itself(tmp_path: Path, relative: str) -> None:
    root = tmp_path / "build"
    root.mkdir()
    (tmp_path / "elsewhere" / "x").mkdir(parents=True)
    with pytest.raises(HostError, match="Refusing to delete"):
        Host(allowed_roots=[root]).rmtree(tmp_path / relative)
    assert (tmp_path / "elsewhere" / "x").is_dir()


def test_rmtree_refuses_a_symlink_that_escapes(tmp_path: Path) -> None:
    root = tmp_path / "build"
    root.mkdir()
    outside = tmp_path / "precious"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(HostError):
        Host(allowed_roots=[root]).rmtree(root / "link")
    assert outside.is_dir()


def test_rmtree_without_roots_refuses_everything(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(HostError, match="none configured"):
        Host().rmtree(tmp_path / "x")


def test_copytree_merges_and_copyfile_creates_parents(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("a")
    dst = tmp_path / "dst"
    (dst / "sub").mkdir(parents=True)
    (dst / "sub" / "keep.txt").write_text("keep")
    host = Host()
    host.copytree(src, dst)
    assert sorted(p.name for p in (dst / "sub").iterdir()) == ["a.txt", "keep.txt"]
    host.copyfile(src / "sub" / "a.txt", tmp_path / "new" / "deep" / "a.txt")
    assert (tmp_path / "new" / "deep" / "a.txt").read_text() == "a"
    with pytest.raises(HostError, match="Cannot copy"):
        host.copyfile(src / "missing.txt", tmp_path / "x.txt")


def test_recording_host_records_and_replays(tmp_path: Path) -> None:
    seen: list[str] = []

    def responder(argv: list[str], kwargs: object) -> tuple[int, list[str]]:
        return (2, ["INFO: hello", "ERROR: boom"]) if argv[0] == "tool" else (0, [])

    host = RecordingHost(responder=responder, programs={"git": "/usr/bin/git"}, allowed_roots=[tmp_path])
    result = host.run(["tool", Path("arg")], cwd=tmp_path, log_file=tmp_path / "log", on_line=seen.append)
    assert result.returncode == 2
    assert seen == ["INFO: hello", "ERROR: boom"]
    assert (tmp_path / "log").read_text() == "INFO: hello\nERROR: boom\n"
    assert host.which("git") == "/usr/bin/git"
    assert host.which("hg") is None
    (tmp_path / "d").mkdir()
    host.rmtree(tmp_path / "d")
    assert (tmp_path / "d").is_dir()  # recorded, not performed
    host.copyfile(tmp_path / "a", tmp_path / "b")
    assert host.runs() == [["tool", "arg"]]
    assert [c.method for c in host.calls] == ["run", "which", "which", "rmtree", "copyfile"]
    assert host.calls[3] == Call("rmtree", (tmp_path / "d",))
    with pytest.raises(HostError):
        host.rmtree(tmp_path.parent)


def test_recording_host_can_perform_file_ops(tmp_path: Path) -> None:
    host = RecordingHost(allowed_roots=[tmp_path], perform_file_ops=True)
    (tmp_path / "a.txt").write_text("a")
    host.copyfile(tmp_path / "a.txt", tmp_path / "out" / "a.txt")
    host.rmtree(tmp_path / "a.txt")
    assert (tmp_path / "out" / "a.txt").read_text() == "a"
    assert not (tmp_path / "a.txt").exists()


def test_run_timeout_kills_a_hung_program() -> None:
    code = "import time; print('started', flush=True); time.sleep(30)"
    result = Host().run([sys.executable, "-c", code], timeout=0.5)
    assert result.returncode != 0
    assert result.stdout == "started"
