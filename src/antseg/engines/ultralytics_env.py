"""Run Ultralytics offline and without side effects: for one block only, then everything is put back.

Ultralytics (AGPL-3.0, the optional ``antseg[yolo]`` extra) downloads fonts, weights and AMP-check models,
installs missing packages, sends analytics and reads its settings from the user's home by default, and it
changes process-wide torch state (thread count, deterministic algorithms). :func:`ultralytics_env`:

- sets ``YOLO_OFFLINE=1``, ``YOLO_AUTOINSTALL=false``, ``YOLO_VERBOSE=false`` and ``YOLO_CONFIG_DIR=<dir>``
  (read by Ultralytics when it is first imported, which happens inside the block) and hides
  ``ULTRALYTICS_API_KEY``;
- also patches the module constants an earlier import may have fixed (``ONLINE``, ``AUTOINSTALL``,
  ``USER_CONFIG_DIR``, ``NUM_THREADS``) and the in-memory settings (integrations, sync, API key; the
  settings file is never written), disables analytics events and replaces the AMP check (which downloads a
  model) by "AMP works";
- copies matplotlib's bundled DejaVu Sans to ``<dir>/Ultralytics/Arial.ttf`` (and ``Arial.Unicode.ttf``), where
  Ultralytics looks before downloading its fonts;
- loads weights files in Ultralytics' safe mode (``ULTRALYTICS_SAFE_LOAD``: ``torch.load(weights_only=True)``
  with an allow-list of Ultralytics' and torch's model classes), so a ``.pt`` file that holds anything else,
  such as code to run, is refused (:func:`refused_weights` turns the refusal into a one-line error); only
  ``trust_weights=True`` loads a full pickle;
- restores the environment, the patched attributes, torch's thread count and its deterministic flags on exit.

Nothing here imports Ultralytics at module level.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import torch

ENV = {"YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "false", "YOLO_VERBOSE": "false"}
SAFE_ENV = "ULTRALYTICS_SAFE_LOAD"
#: How a user vouches for a pickled weights file (the CLI flag), named in every refusal.
TRUST_FLAG = "--trust-weights"

HIDDEN_ENV = ("ULTRALYTICS_API_KEY",)
FONTS = ("Arial.ttf", "Arial.Unicode.ttf")
OFF_SETTINGS = {
    "sync": False, "api_key": "", "clearml": False, "comet": False, "dvc": False, "mlflow": False,
    "raytune": False, "tensorboard": False, "wandb": False, "vscode_msg": False, "openvino_msg": False,
}  # fmt: skip


def bundled_font() -> Path:
    """A TrueType font that is always on disk: matplotlib's DejaVu Sans (matplotlib is a core dependency)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def place_fonts(folder: Path) -> None:
    """Put the fonts Ultralytics asks for into ``folder`` (its config directory) unless they are there."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in FONTS:
        if not (folder / name).is_file():
            shutil.copyfile(bundled_font(), folder / name)


class _Patches:
    """setattr that remembers the old values and puts them back in reverse order."""

    def __init__(self) -> None:
        self.saved: list[tuple[object, str, object]] = []

    def set(self, obj: object, name: str, value: object) -> None:
        self.saved.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def restore(self) -> None:
        for obj, name, value in reversed(self.saved):
            setattr(obj, name, value)
        self.saved.clear()


def _patch_modules(p: _Patches, config_dir: Path, threads: int, safe: bool) -> None:
    """Module-level constants that an import outside this block may have fixed, in every loaded ultralytics module."""
    values = {
        "ONLINE": False, "AUTOINSTALL": False, "USER_CONFIG_DIR": config_dir, "NUM_THREADS": threads, "SAFE_LOAD": safe,
    }  # fmt: skip
    for name, mod in list(sys.modules.items()):
        if mod is None or not (name == "ultralytics" or name.startswith("ultralytics.")):
            continue
        for attr, value in values.items():
            if attr in vars(mod):
                p.set(mod, attr, value)


@contextlib.contextmanager
def ultralytics_env(config_dir: str | Path, threads: int | None = None, trust_weights: bool = False) -> Iterator[Path]:
    """Offline, side-effect-free Ultralytics for the block; yields its config directory (``<dir>/Ultralytics``).

    Args:
        config_dir: folder for Ultralytics' settings and fonts (inside the run folder).
        threads: torch CPU threads while Ultralytics runs (None: the current count; Ultralytics would set
            ``cpu_count - 1``).
        trust_weights: load ``.pt`` files as full pickles (they can run code); default: safe mode only.
    """
    config_dir = Path(config_dir).resolve()
    ul_dir = config_dir / "Ultralytics"
    place_fonts(ul_dir)
    threads = threads or torch.get_num_threads()
    keys = (
        *ENV,
        SAFE_ENV,
        "YOLO_CONFIG_DIR",
        "OMP_NUM_THREADS",
        "CUBLAS_WORKSPACE_CONFIG",
        "PYTHONHASHSEED",
        *HIDDEN_ENV,
    )
    old_env = {k: os.environ.get(k) for k in keys}
    torch_state = (
        torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(), torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark, torch.utils.deterministic.fill_uninitialized_memory,
    )  # fmt: skip
    patches = _Patches()
    saved_settings: dict[str, object] = {}
    settings = None
    try:
        os.environ.update(ENV)
        os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
        os.environ[SAFE_ENV] = "false" if trust_weights else "true"
        for k in HIDDEN_ENV:
            os.environ.pop(k, None)
        import ultralytics  # noqa: F401  (first import reads the variables above)
        import ultralytics.engine.trainer as trainer_mod
        import ultralytics.utils.events as events_mod
        from ultralytics.utils import SETTINGS

        _patch_modules(patches, ul_dir, threads, safe=not trust_weights)
        settings = SETTINGS
        for k, v in OFF_SETTINGS.items():
            if k in settings:
                saved_settings[k] = settings[k]
                dict.__setitem__(settings, k, v)  # in memory only: the user's settings file is never written
        patches.set(events_mod.events, "enabled", False)
        patches.set(trainer_mod, "check_amp", lambda model: True)  # the real check downloads yolo26n.pt
        torch.set_num_threads(threads)
        yield ul_dir
    finally:
        patches.restore()
        if settings is not None:
            for k, v in saved_settings.items():
                dict.__setitem__(settings, k, v)
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        n, det, warn_only, cudnn_det, cudnn_bench, fill = torch_state
        torch.set_num_threads(n)
        torch.utils.deterministic.fill_uninitialized_memory = fill
        torch.use_deterministic_algorithms(det, warn_only=warn_only)
        torch.backends.cudnn.deterministic = cudnn_det
        torch.backends.cudnn.benchmark = cudnn_bench


def unsafe_globals(path: str | Path) -> list[str]:
    """The Python names a ``torch.save`` file would load beyond tensors and containers (empty when unreadable)."""
    try:
        return sorted(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    except Exception:  # not a torch zip archive: the loader reports that itself
        return []


def refused_weights(path: str | Path, exc: BaseException) -> Exception | None:
    """Ultralytics' safe-mode refusal of ``path`` (a ``TypeError`` naming types outside its allow-list) as a
    one-line input error that says what the file holds and how to vouch for it; None for any other error."""
    if not isinstance(exc, TypeError) or "outside the supported" not in str(exc):
        return None
    from antseg.errors import AntsegInputError

    allowed = ("torch.nn.modules.", "ultralytics.nn.", "ultralytics.utils.", "pathlib.", "builtins.getattr")
    foreign = [g for g in unsafe_globals(path) if not g.startswith(allowed)]
    named = f" ({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''})" if foreign else ""
    return AntsegInputError(
        path, f"refused: this pickle holds more than model classes and tensors{named}, so loading it could run code; "
        f"if you trust its source, pass {TRUST_FLAG}"
    )  # fmt: skip
