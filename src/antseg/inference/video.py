"""Exact frame-at-timestamp reading with PyAV: the frame on screen at ``t`` seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from antseg import checks
from antseg.errors import AntsegInputError
from antseg.inference.video_reader import open_video  # the one opener and its checks

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg")


def read_frame_at(path: str | Path, t: float) -> np.ndarray:
    """RGB frame (H, W, 3) shown at ``t`` seconds from the start of the video.

    That is the last frame whose presentation time is <= t (relative to the stream's start time):
    seek back to a keyframe, then decode forward.

    Raises:
        AntsegInputError: not a video (a still image included), a negative or non-finite timestamp, or one
            past the end.
    """
    import av

    path = Path(path)
    t = checks.timestamp(t, path=path)
    container, stream, info = open_video(path)
    with container:
        tb = stream.time_base
        start = float(stream.start_time * tb) if stream.start_time is not None else 0.0
        duration = info.duration_s
        if duration is not None and t >= duration:
            raise AntsegInputError(path, f"timestamp {t:g} s is past the end of the video ({duration:.3f} s)")
        target = start + t
        chosen, ran_out = None, True
        try:
            container.seek(int(target / tb), stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                if frame.time <= target + 1e-9:
                    chosen = frame
                else:
                    ran_out = False
                    break
        except av.error.FFmpegError:
            raise AntsegInputError(path, "video data is corrupt") from None
        if chosen is None:
            raise AntsegInputError(path, f"no frame at {t:g} s")
        rate = float(stream.average_rate or stream.guessed_rate or 0)
        if ran_out and rate and target - chosen.time > 1.5 / rate:
            # The header promised more than the file holds: the frame shown at t is missing, not the last one.
            raise AntsegInputError(
                path, f"video data ends at {chosen.time - start:.3f} s, before {t:g} s (a truncated file?)"
            )
        return chosen.to_ndarray(format="rgb24")
