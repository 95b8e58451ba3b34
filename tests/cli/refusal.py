"""The promise for bad input, as one assertion: exit 2, exactly one line on stderr (captured at the file
descriptor, so OpenCV's, libpng's and FFmpeg's own lines count too) that names the file or flag at fault,
no traceback, and no output folder, temporary folder or partial folder left behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from antseg.cli import main


@dataclass
class Bad:
    """One bad input: the command line, the output it must not leave, and what the error line must name."""

    args: list
    out: Path
    names: str
    also: list[str] = field(default_factory=list)  # more text the line must hold


def run_main(capfd, args: list) -> tuple[int, str, str]:
    """Run ``antseg ARGS...`` in-process; (exit code, stdout, stderr) captured at the file descriptors."""
    capfd.readouterr()
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capfd.readouterr()
    return code, out, err


def assert_refused(result: tuple[int, str, str], bad: Bad) -> None:
    code, out, err = result
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, f"exit {code}\nstdout: {out}\nstderr: {err}"
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("error: ") and "Traceback" not in err + out
    for text in [bad.names, *bad.also]:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    assert not bad.out.exists(), f"{bad.out} was written"
    siblings = bad.out.parent.iterdir() if bad.out.parent.exists() else []  # missing parents stay missing
    left = [p.name for p in siblings if p.name.startswith(f".{bad.out.name}")]
    assert not left, f"left behind: {left}"


def read_only_folder(tmp_path: Path) -> Path:
    """A folder nothing can be written into: a ``chmod 555`` folder, or for root (whom permissions do not stop)
    ``/sys/kernel``, where the kernel refuses new files. Skips the test where neither holds."""
    import os

    import pytest

    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    folder = Path("/sys/kernel")
    probe = folder / ".antseg-write-probe"
    try:
        probe.mkdir()
    except OSError:
        return folder
    probe.rmdir()
    pytest.skip("no folder here refuses writes")
