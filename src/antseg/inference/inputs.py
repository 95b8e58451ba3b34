"""Input discovery for prediction: image files from files and folders, and the one video of ``--timestamp``."""

from __future__ import annotations

from pathlib import Path

from antseg.errors import AntsegInputError
from antseg.inference.video import VIDEO_SUFFIXES
from antseg.io.dicom_read import DICOM_SUFFIXES, expand_frames, is_dicom, split_frame
from antseg.io.images import IMAGE_SUFFIXES
from antseg.io.manifest import is_manifest, read_manifest


def collect_inputs(inputs: list[Path]) -> list[Path]:
    """Image files from files and folders (folders: their images and ``.dcm`` / ``.dicom`` files, sorted; not
    recursive), each name once (:func:`check_unique_names`). A ``.csv`` file is a manifest: the scans it lists, in
    its order (:mod:`antseg.io.manifest`). A DICOM file of several frames gives one name per
    frame (``scan#001.dcm``, ...: :func:`antseg.io.dicom_read.expand_frames`); a file given by name is a DICOM
    when it has the DICOM marker."""
    files: list[Path] = []
    for p in inputs:
        if p.is_dir():
            suffixes = IMAGE_SUFFIXES + DICOM_SUFFIXES
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in suffixes and f.is_file())
            if not found:
                raise AntsegInputError(p, "folder holds no images")
            files += [s for f in found for s in (expand_frames(f) if is_dicom(f) else [f])]
        elif is_manifest(p):
            listed = read_manifest(p)
            files += [s for f in listed for s in (expand_frames(f) if f.is_file() and is_dicom(f) else [f])]
        elif p.is_file():
            files += expand_frames(p) if is_dicom(p) else [p]
        elif split_frame(p)[1] is not None:  # one frame of a multi-frame file, by its frame name
            files.append(p)
        else:
            raise AntsegInputError(p, "does not exist")
    check_unique_names(files)
    return files


def check_unique_names(files: list[Path]) -> None:
    """Refuse a file given twice and two files with the same stem (``twin0/x.png`` and ``twin1/x.png``, ``a.png``
    and ``a.jpg``; letter case aside, as on macOS and Windows): outputs (``<stem>/``, overlays), table rows and
    ``--meta``/``--reference`` rows are keyed by the stem, so the two would be taken for one scan.

    Renaming them silently (``x-2``) was rejected: the user's tables would no longer match the outputs.
    """
    seen: dict[str, Path] = {}
    for f in files:
        key = f.stem.casefold()
        if key in seen:
            other = seen[key]
            if other.resolve() == f.resolve():
                raise AntsegInputError(f, f"is given twice (also as {other}): give each scan once")
            raise AntsegInputError(
                f, f"has the same name as {other}: antseg names outputs and table rows by it, so the two would be "
                "taken for one scan; rename one"
            )  # fmt: skip
        seen[key] = f


def check_video_input(path: Path) -> Path:
    """The file given with ``--timestamp``: it must exist and not be a still image (by name; the content is
    checked when it is opened)."""
    path = Path(path)
    if path.is_dir():
        raise AntsegInputError(path, "is a folder: --timestamp takes one video file")
    if not path.is_file():
        raise AntsegInputError(path, "does not exist")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise AntsegInputError(
            path, f"is an image, not a video: --timestamp needs a video ({', '.join(VIDEO_SUFFIXES)})"
        )
    return path
