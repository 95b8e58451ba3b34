"""Training configuration (a dataclass: defaults, then a recipe, then YAML, then CLI flags)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from antseg import checks
from antseg.config import load_config, read_yaml
from antseg.errors import AntsegInputError

#: The smallest network input side: the default U-Net needs more than one pixel at its deepest level.
MIN_INPUT_SIDE = 32
NORMALIZATIONS = ("image_zscore", "imagenet")


@dataclass
class AugmentConfig:
    """Ranges of the random changes (``TrainConfig.augment_args`` overrides them by name)."""

    flip: float = 0.5  # probability of a horizontal flip (left/right structures swapped)
    rotate_deg: float = 7.0
    scale: tuple[float, float] = (0.9, 1.1)
    translate: float = 0.05  # fraction of the size
    gamma: tuple[float, float] = (0.8, 1.25)
    contrast: tuple[float, float] = (0.8, 1.2)
    noise: float = 0.08
    blur: tuple[float, float] = (0.0, 0.0)  # Gaussian blur sigma range, input pixels (0: none)


@dataclass
class TrainConfig:
    """Segmentation training settings.

    Attributes:
        model: registered model name; ``model_args`` are passed to its builder (None values dropped).
        input_size: (height, width) of the network input; images are letterboxed into it.
        in_channels: 1 (grey) or 3 (RGB); 0 picks 1 for AS-OCT and 3 for surgical data.
        normalization: ``image_zscore`` or ``imagenet``.
        split_ratios: used only when the dataset has no split column (train, val, test), by patient.
        time_budget_s: stop after this many seconds of training (0: no limit); best/last stay valid.
        augment_args: changes to the augmentation ranges by name (see ``AugmentConfig``: flip, rotate_deg, scale,
            translate, gamma, contrast, noise, blur), e.g. ``{blur: [0, 1.5], gamma: [0.6, 1.6]}``.
        init: start from another model's weights: a checkpoint file, a run folder, or ``default`` (antseg's
            shipped model, trained on synthetic phantoms only). Tensors are matched by name and shape; output
            channels by structure (or landmark) name, so a dataset with fewer, more or reordered structures keeps
            what the checkpoint learnt about each one it shares, and new ones start fresh. The architecture is
            the checkpoint's. Empty: random initialisation. Ignored with ``--resume``.
        keep_init_structures: with ``init``, the structures the initial model segments and the dataset does not
            label (a lens in a dataset that draws none) stay in the fine-tuned model, taught by the initial
            model's own masks on the training images; without it they are dropped and forgotten.
    """

    model: str = "unet-lite"
    model_args: dict[str, Any] = field(default_factory=dict)
    encoder_weights: str | None = None
    input_size: tuple[int, ...] = (256, 512)
    in_channels: int = 0
    normalization: str = "image_zscore"
    epochs: int = 60
    batch_size: int = 4
    lr: float = 2e-3
    min_lr: float = 1e-6
    weight_decay: float = 1e-4
    lambda_dice: float = 1.0
    lambda_focal: float = 1.0
    augment: bool = True
    augment_args: dict[str, Any] = field(default_factory=dict)
    side_gate: bool = True  # left_*/right_* channels only fire on their half of the scan
    amp: bool = True  # mixed precision on CUDA only (fp32 on CPU)
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # CPU threads (0: all cores)
    val_every: int = 1
    split_ratios: tuple[float, ...] = (0.7, 0.15, 0.15)
    time_budget_s: float = 0.0
    recipe: str = ""
    init: str = ""
    keep_init_structures: bool = True

    def __post_init__(self) -> None:
        """Check every number here, so a bad one is refused before a run folder is made (CLI, YAML, API)."""
        self.input_size = checks.size(self.input_size, "input_size", minimum=MIN_INPUT_SIDE)
        self.in_channels = int(checks.choice(self.in_channels, "in_channels", (0, 1, 3)))
        checks.choice(self.normalization, "normalization", NORMALIZATIONS)
        self.epochs = checks.count(self.epochs, "epochs")
        self.batch_size = checks.count(self.batch_size, "batch_size")
        self.val_every = checks.count(self.val_every, "val_every")
        self.threads = checks.integer(self.threads, "threads", minimum=0)
        self.seed = checks.integer(self.seed, "seed", minimum=0)
        self.lr = checks.positive(self.lr, "lr")
        for name in ("min_lr", "weight_decay", "lambda_dice", "lambda_focal", "time_budget_s"):
            setattr(self, name, checks.number(getattr(self, name), name, minimum=0.0))
        self.split_ratios = checks.ratios(self.split_ratios, "split_ratios")
        self.device = checks.device(self.device, "device")
        self.augment_args = dict(self.augment_args or {})
        valid = [f.name for f in fields(AugmentConfig)]
        unknown = sorted(set(self.augment_args) - set(valid))
        if unknown:
            raise AntsegInputError(None, f"unknown augment_args {', '.join(unknown)}; valid: {', '.join(valid)}")

    def augmentation(self) -> AugmentConfig:
        """The augmentation ranges: the defaults with ``augment_args`` applied."""
        return AugmentConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in self.augment_args.items()})


#: Named recipes: the reference projects' settings and antseg's defaults.
RECIPES: dict[str, dict[str, Any]] = {
    # The reference cornea project: PSPNet-R101, Dice+Focal, AdamW 5e-5 cosine to 1e-6, batch 4,
    # 512x512, no augmentation, 80/20 split by video, 150 epochs.
    "cornea-pspnet": {
        "model": "pspnet",
        "model_args": {"encoder": "resnet101", "classes": 1},
        "input_size": (512, 512),
        "in_channels": 3,
        "epochs": 150,
        "batch_size": 4,
        "lr": 5e-5,
        "min_lr": 1e-6,
        "augment": False,
        "split_ratios": (0.8, 0.2, 0.0),
    },
    # Real-time cornea on a CPU: an 8-128 channel residual U-Net (0.2 M parameters) at 512x384, for whole videos.
    "cornea-lite": {
        "model": "unet-lite",
        "model_args": {"channels": (8, 16, 32, 64, 128), "num_res_units": 1},
        "input_size": (384, 512),
        "in_channels": 3,
        "epochs": 60,
        "batch_size": 4,
        "lr": 3e-3,
        "split_ratios": (0.8, 0.2, 0.0),
    },
    # The reference AS-OCT baseline architecture with antseg's training loop.
    "asoct-transresunet": {"model": "transresunet", "input_size": (256, 512), "epochs": 60, "lr": 3e-4},
    # antseg's AS-OCT default, sized for a CPU.
    "asoct-unet": {"model": "unet", "input_size": (256, 512), "epochs": 40, "lr": 1e-3},
    "asoct-unet-lite": {"model": "unet-lite", "input_size": (256, 512), "epochs": 40, "lr": 2e-3},
}


def apply_recipe(cfg: TrainConfig, name: str) -> TrainConfig:
    """Recipe values on top of the defaults (YAML and CLI flags are applied after this)."""
    if not name:
        return cfg
    if name not in RECIPES:
        raise AntsegInputError(None, f"unknown recipe {name!r}; valid: {', '.join(sorted(RECIPES))}")
    known = {f.name for f in fields(TrainConfig)}
    return replace(cfg, **{k: v for k, v in RECIPES[name].items() if k in known}, recipe=name)


#: Settings a resumed run may change; everything else comes from the run's own ``config.yaml``.
RESUMABLE_FIELDS = ("epochs", "time_budget_s", "device")


def resolve_train_config(
    config: str | Path | None = None,
    recipe: str | None = None,
    resume_run: str | Path | None = None,
    **flags: Any,
) -> TrainConfig:
    """The training settings of a run, by precedence: ``flags`` (None = unset), then the YAML ``config``,
    then the ``recipe`` (the argument, or ``recipe:`` in the YAML), then the defaults.

    When resuming (``resume_run`` holds a ``config.yaml``), the run's own settings are used and only
    :data:`RESUMABLE_FIELDS` may be overridden.
    """
    from antseg.models.runs import CONFIG

    if resume_run is not None and (Path(resume_run) / CONFIG).is_file():
        keep = {k: flags.get(k) for k in RESUMABLE_FIELDS}
        return load_config(TrainConfig, Path(resume_run) / CONFIG, **keep)
    recipe = recipe or (read_yaml(config).get("recipe") if config else None) or ""
    return load_config(TrainConfig, config, base=apply_recipe(TrainConfig(), recipe), **flags)
