"""Exact frame-at-timestamp reading with PyAV: the frame on screen at ``t`` seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from antseg.errors import AntsegInputError

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg")


def read_frame_at(path: str | Path, t: float) -> np.ndarray:
    """RGB frame (H, W, 3) shown at ``t`` seconds from the start of the video.

    That is the last frame whose presentation time is <= t (relative to the stream's start time):
    seek back to a keyframe, then decode forward.

    Raises:
        AntsegInputError: not a video, a negative timestamp, or one past the end.
    """
    import av

    path = Path(path)
    if t < 0:
        raise AntsegInputError(path, f"timestamp {t:g} s is negative")
    try:
        container = av.open(str(path))
    except (av.error.InvalidDataError, av.error.FileNotFoundError, av.error.PermissionError, OSError) as exc:
        raise AntsegInputError(path, f"not a readable video ({type(exc).__name__})") from None
    with container:
        if not container.streams.video:
            raise AntsegInputError(path, "has no video stream")
        stream = container.streams.video[0]
        tb = stream.time_base
        start = float(stream.start_time * tb) if stream.start_time is not None else 0.0
        duration = None
        if stream.duration is not None:
            duration = float(stream.duration * tb)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        if duration is not None and t >= duration:
            raise AntsegInputError(path, f"timestamp {t:g} s is past the end of the video ({duration:.3f} s)")
        target = start + t
        container.seek(int(target / tb), stream=stream, backward=True, any_frame=False)
        chosen = None
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                if frame.time <= target + 1e-9:
                    chosen = frame
                else:
                    break
        except av.error.InvalidDataError:
            raise AntsegInputError(path, "video data is corrupt") from None
        if chosen is None:
            raise AntsegInputError(path, f"no frame at {t:g} s")
        return chosen.to_ndarray(format="rgb24")
