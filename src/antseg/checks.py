"""The one place that checks numbers where they enter antseg: finite, positive, in range, sizes, timestamps.

Every check returns the value in its checked type or raises :class:`~antseg.errors.AntsegInputError` naming
the value (``what``: a flag such as ``--spacing`` or a field such as ``epochs``) and, where one is at fault,
the file (``path``). The CLI and the Python API call the same checks, so a value refused on the command line
is refused from a script or a YAML config too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING

from antseg.errors import AntsegInputError

if TYPE_CHECKING:
    import torch

#: The largest image side antseg accepts for a network input or a phantom (pixels).
MAX_SIDE = 16384


def _fail(path: str | Path | None, what: str, need: str, value: object) -> AntsegInputError:
    return AntsegInputError(path, f"{what} must be {need}, got {value!r}")


def number(
    value: object,
    what: str,
    *,
    path: str | Path | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
) -> float:
    """A finite real number, optionally ``> 0`` (``positive``) and within ``[minimum, maximum]``.

    Args:
        value: a number (a bool is refused) or its text.
        what: the flag or field name, for the message.
        path: the file the value came from, if any.
    """
    if isinstance(value, bool):
        raise _fail(path, what, "a number", value)
    try:
        v = float(value.strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _fail(path, what, "a number", value) from None
    if not math.isfinite(v):
        raise _fail(path, what, "a finite number", value)
    if positive and v <= 0:
        raise _fail(path, what, "positive", value)
    if minimum is not None and v < minimum:
        raise _fail(path, what, f">= {minimum:g}", value)
    if maximum is not None and v > maximum:
        raise _fail(path, what, f"<= {maximum:g}", value)
    return v


def positive(value: object, what: str, path: str | Path | None = None) -> float:
    """A finite number ``> 0``."""
    return number(value, what, path=path, positive=True)


def fraction(value: object, what: str, path: str | Path | None = None) -> float:
    """A finite number in ``[0, 1]``."""
    return number(value, what, path=path, minimum=0.0, maximum=1.0)


def integer(
    value: object,
    what: str,
    *,
    path: str | Path | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """A whole number (``3``, ``3.0`` or ``"3"``; never a bool or ``3.5``) within ``[minimum, maximum]``."""
    if isinstance(value, bool):
        raise _fail(path, what, "a whole number", value)
    if isinstance(value, Integral):
        v = int(value)
    elif isinstance(value, Real) and math.isfinite(float(value)) and float(value).is_integer():
        v = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        v = int(value.strip())
    else:
        raise _fail(path, what, "a whole number", value)
    if minimum is not None and v < minimum:
        raise _fail(path, what, f"a whole number >= {minimum}", value)
    if maximum is not None and v > maximum:
        raise _fail(path, what, f"a whole number <= {maximum}", value)
    return v


def count(value: object, what: str, path: str | Path | None = None, minimum: int = 1) -> int:
    """A whole number ``>= minimum`` (default 1): epochs, batch sizes, steps."""
    return integer(value, what, path=path, minimum=minimum)


def spacing(value: object, what: str = "--spacing", path: str | Path | None = None) -> tuple[float, float] | None:
    """Pixel spacing (x, y) in mm: two finite positive numbers (one number is used for both); None stays None."""
    if value is None:
        return None
    vals = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2:
        raise _fail(path, what, "one or two numbers (x, y)", value)
    sx, sy = (number(v, what, path=path, positive=True) for v in vals)
    return sx, sy


def spur_wall(value: object, what: str = "--spur-wall") -> float | None:
    """Distance (mm) beyond which a spur is moved onto the angle wall: a number >= 0 (0: off); None stays None."""
    return None if value is None else number(value, what, minimum=0.0)


def size(value: object, what: str, path: str | Path | None = None, minimum: int = 1) -> tuple[int, int]:
    """Two whole numbers in ``[minimum, MAX_SIDE]`` (a width and a height, in either order)."""
    vals = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if len(vals) != 2:
        raise _fail(path, what, "two numbers", value)
    a, b = (integer(v, what, path=path, minimum=minimum, maximum=MAX_SIDE) for v in vals)
    return a, b


def timestamp(value: object, what: str = "--timestamp", path: str | Path | None = None) -> float:
    """Seconds into a video: a finite number ``>= 0``."""
    t = number(value, what, path=path)
    if t < 0:
        raise AntsegInputError(path, f"{what} {t:g} s is negative")
    return t


#: How far from 1 split fractions may sum (``0.33,0.33,0.33`` is meant as thirds); they are then normalised.
RATIO_SUM_TOLERANCE = 0.011


def ratios(value: object, what: str, n: int = 3, path: str | Path | None = None) -> tuple[float, ...]:
    """``n`` fractions (each finite and >= 0) that sum to 1 (within :data:`RATIO_SUM_TOLERANCE`).

    A sum far from 1 (``0.8,0.2,0.2``) is refused rather than normalised: the split would not be the one asked for.
    """
    vals = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if len(vals) != n:
        raise _fail(path, what, f"{n} numbers", value)
    out = tuple(number(v, what, path=path, minimum=0.0) for v in vals)
    total = sum(out)
    if abs(total - 1.0) > RATIO_SUM_TOLERANCE:
        raise AntsegInputError(path, f"{what} must be fractions that sum to 1, got {value!r} (sum {total:g})")
    return out


#: What ``--device`` accepts (``cuda:N`` selects the N-th GPU).
DEVICES = ("auto", "cpu", "cuda", "cuda:N")


def device(value: object, what: str = "--device") -> str:
    """A device name: ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (lower-cased, spaces stripped). Whether that
    device exists here is checked where it is used (:func:`resolve_device`)."""
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text in ("auto", "cpu", "cuda"):
        return text
    if text and text.startswith("cuda:") and text[5:].isdigit():
        return f"cuda:{int(text[5:])}"
    hint = " (write cuda for a GPU)" if text and text.startswith("gpu") else ""
    raise AntsegInputError(None, f"{what} must be one of {', '.join(DEVICES)}, got {value!r}{hint}")


def resolve_device(name: object, what: str = "--device") -> torch.device:
    """The device to run on: ``name`` parsed by :func:`device`, then what this machine has: ``auto`` -> CUDA when
    available, else the CPU; ``cuda`` without CUDA, or ``cuda:N`` beyond the GPUs here, is an input error.

    The one device resolver: engines that need another spelling (nnU-Net's ``cuda:0``, Ultralytics' ``0``)
    convert its result."""
    import torch  # imported here: parsing a device name (the command line) needs no torch

    name = device(name, what)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise AntsegInputError(None, f"device {name!r} requested but CUDA is not available")
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise AntsegInputError(
                None, f"device {name!r} requested but this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    return torch.device(name)


#: Upper bounds of the narrow-angle thresholds: above them every angle would be flagged narrow (AOD500 and TISA500
#: of wide-open angles stay under about 1.5 mm and 0.6 mm2).
MAX_NARROW_AOD500_MM = 2.0
MAX_NARROW_TISA500_MM2 = 1.0


def narrow_thresholds(aod500_mm: object, tisa500_mm2: object) -> tuple[float, float]:
    """``--narrow-aod500`` (mm) and ``--narrow-tisa500`` (mm2): finite, >= 0 (0 turns that test off) and at most
    :data:`MAX_NARROW_AOD500_MM` / :data:`MAX_NARROW_TISA500_MM2`."""
    aod = number(aod500_mm, "--narrow-aod500", minimum=0.0, maximum=MAX_NARROW_AOD500_MM)
    tisa = number(tisa500_mm2, "--narrow-tisa500", minimum=0.0, maximum=MAX_NARROW_TISA500_MM2)
    return aod, tisa


def choice(value: object, what: str, valid: Sequence[object], path: str | Path | None = None) -> object:
    """One of ``valid``."""
    if value not in valid:
        raise AntsegInputError(path, f"{what} must be one of {', '.join(map(str, valid))}, got {value!r}")
    return value


def flag(value: object, what: str, path: str | Path | None = None) -> bool:
    """A yes/no setting (YAML and the API may give other types)."""
    return bool(choice(value, what, (True, False), path))


#: Characters a name taken from data may not hold when it becomes a file or folder name.
_UNSAFE_NAME_CHARS = frozenset("/\\")


def file_name(value: object, what: str, path: str | Path | None = None) -> str:
    """A name from data (a case id, an image stem) that is safe as one file or folder name: not empty, not ``.``
    or ``..``, no path separator or control character, at most 200 characters. Names that pass can never lead
    a write out of the folder they are joined to."""
    text = str(value)
    bad = (
        not text or text in (".", "..") or len(text) > 200
        or any(ch in _UNSAFE_NAME_CHARS or ord(ch) < 32 for ch in text)
    )  # fmt: skip
    if bad:
        raise _fail(path, what, "a plain file name (no '/', '\\', '..' or control characters)", value)
    return text


def relative_path(value: object, what: str, path: str | Path | None = None) -> str:
    """A path from data that stays inside its folder: relative, no ``..`` part, no empty or drive part."""
    text = str(value)
    parts = text.replace("\\", "/").split("/")
    if not text or text.startswith(("/", "\\")) or ":" in parts[0] or any(p in ("", "..") for p in parts):
        raise _fail(path, what, "a relative path inside the dataset folder", value)
    return text
