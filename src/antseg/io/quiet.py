"""Keep third-party messages (OpenCV, libpng, FFmpeg, Python warnings) off the user's terminal.

antseg reports every problem itself, as one line. Libraries below it print their own lines too: OpenCV's
``[ WARN ]`` / ``[ERROR]`` log, libpng's ``libpng error: ...`` (written straight to file descriptor 2), FFmpeg's
log, and Python warnings such as torch's pickle-protocol ``UserWarning``. The CLI runs every command inside
:func:`quiet_output` unless ``--verbose``; it silences them in this process and, through the environment, in
the worker processes it starts, and restores everything afterwards. The Python API leaves them alone.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

ENV = "ANTSEG_QUIET"
#: Environment variables set while quiet (read by worker processes and by libraries imported later).
QUIET_ENV = {ENV: "1", "OPENCV_LOG_LEVEL": "SILENT", "PYTHONWARNINGS": "ignore"}


def is_quiet() -> bool:
    """True inside :func:`quiet_output` (or in a worker process started from inside it)."""
    return os.environ.get(ENV) == "1"


@contextlib.contextmanager
def quiet_output(enabled: bool = True) -> Iterator[None]:
    """Silence third-party logs and warnings while the block runs (a no-op when ``enabled`` is False)."""
    if not enabled:
        yield
        return
    saved_env = {k: os.environ.get(k) for k in QUIET_ENV}
    os.environ.update(QUIET_ENV)
    restore_cv2 = _opencv_silent(saved_env["OPENCV_LOG_LEVEL"])
    restore_av = _pyav_silent()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        restore_av()
        restore_cv2()
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _opencv_silent(user_level: str | None = None):
    """Silence OpenCV now if it is imported; if not, OPENCV_LOG_LEVEL silences it should the block import it
    (importing OpenCV here would cost ``antseg --help`` a fifth of a second). The returned function restores
    the level it had, or, when first imported inside the block, the level ``user_level`` names (default INFO)."""
    if "cv2" not in sys.modules:

        def restore() -> None:
            if "cv2" in sys.modules:
                log = sys.modules["cv2"].utils.logging
                log.setLogLevel(getattr(log, f"LOG_LEVEL_{(user_level or 'INFO').upper()}", log.LOG_LEVEL_INFO))

        return restore
    import cv2

    log = cv2.utils.logging
    before = log.getLogLevel()
    log.setLogLevel(log.LOG_LEVEL_SILENT)
    return lambda: log.setLogLevel(before)


def _pyav_silent():
    if "av" not in sys.modules:
        return lambda: None  # PyAV logs nothing unless a level is set
    import av.logging

    before = av.logging.get_level()
    av.logging.set_level(None)
    return lambda: av.logging.set_level(before)


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """While quiet, send what C libraries write to file descriptor 2 to /dev/null (libpng does this)."""
    if not is_quiet():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
