"""The JSON annotation formats as schemas (pydantic): every field checked once, where the file is read.

A file that does not fit gives one :class:`~antseg.errors.AntsegInputError` naming the file and the first
wrong field, e.g. ``malformed LabelMe file: shapes[2].points[7][0]: Input should be a finite number (got
nan)``. Coordinates must be finite numbers (JSON's ``NaN`` and ``Infinity`` are refused; ``true`` is not a
number), and sizes positive whole numbers. Fields a schema does not name are allowed and ignored, so files of
newer tool versions still import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from antseg.errors import AntsegInputError

Coordinate = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Point = tuple[Coordinate, Coordinate]
Side = Annotated[StrictInt, Field(gt=0)]
Label = Annotated[StrictStr, Field(min_length=1)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class LabelMeShape(_Open):
    label: Label
    points: Annotated[list[Point], Field(min_length=1)]
    shape_type: StrictStr | None = None


class LabelMeFile(_Open):
    """A LabelMe annotation (``labelme`` 3.x to 5.x)."""

    shapes: list[LabelMeShape] | None = None
    imagePath: StrictStr | None = None
    imageData: StrictStr | None = None
    imageWidth: Side | None = None
    imageHeight: Side | None = None


class SuperviselyPoints(_Open):
    exterior: list[Point]
    interior: list[list[Point]] = []


class SuperviselyObject(_Open):
    classTitle: Label
    geometryType: StrictStr = "polygon"
    points: SuperviselyPoints | None = None


class SuperviselySize(_Open):
    width: Side
    height: Side


class SuperviselyFile(_Open):
    """A Supervisely image annotation (``<frame>.png.json``)."""

    size: SuperviselySize | None = None
    objects: list[SuperviselyObject]


M = TypeVar("M", bound=BaseModel)


def field_path(loc: tuple[Any, ...]) -> str:
    """``('shapes', 2, 'points', 7, 0)`` -> ``shapes[2].points[7][0]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse(model: type[M], data: Any, path: str | Path, what: str) -> M:
    """Validate ``data`` (parsed JSON) against ``model``; one input error naming the first wrong field.

    Args:
        what: the format's name for the message (``LabelMe``, ``Supervisely``).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        got = "" if first.get("type") in ("missing",) else f" (got {_short(first.get('input'))})"
        more = f"; {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
        raise AntsegInputError(path, f"malformed {what} file: {field_path(first['loc'])}: {msg}{got}{more}") from None
