"""Settings of unsupervised adaptation (a typed dataclass, loadable from YAML, overridable by flags)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from antseg import checks
from antseg.adaptation.restyle import STYLES


@dataclass
class AdaptConfig:
    """How ``antseg adapt`` fits a model to a folder of unlabelled scans.

    Attributes:
        budget_s: wall-clock seconds for the whole adaptation (all rounds, segmentation and spurs); 0: no limit,
            every scan labelled and every epoch trained in each round, so that the same seed does the same work on
            any machine (within a budget, what is done depends on how fast the machine is).
        rounds: pseudo-label and fine-tune rounds; each round's model labels the next round's scans (None: 2, or 0
            with corrected scans, ``--labels``: measured, rounds after them undid part of what they taught).
        max_scans: at most this many scans are used (spread evenly over the inputs).
        min_accepted: fewer scans passing the quality checks than this: no pseudo-labels teach the round; it adapts
            to the device's look alone (rehearsal scans in the scans' grey levels) when ``rehearsal_look`` allows,
            else (and always for surgical frames) adaptation stops with a clear error.
        min_in_domain: fewer anterior-segment B-scans among the inputs than this: adaptation stops with a clear error
            (wrong files).
        rehearsal: realistic phantom scans (exact labels) mixed into each round, so that the model keeps what it
            knows where the pseudo-labels say nothing (0: none).
        rehearsal_look: ``histogram``: the rehearsal scans take the grey-level histogram of the user's scans
            (exact labels in the device's look, :mod:`antseg.adaptation.restyle`); ``none``: the phantom's look.
        spurs: also fine-tune the spur model, on the spurs the checks trust (confident, on the wall, the same on
            the mirrored scan); a round's spur model is kept only when :mod:`antseg.adaptation.spur_guard` finds it
            no worse. Off by default: measured, it has not yet made spurs better (``docs/results/adaptation.md``),
            and the spur model given is then installed unchanged.
        spur_limit_mm: a fine-tuned spur model must stay within this distance of every trusted held-out spur.
        spur_mirror_mm: a pseudo-spur must lie within this distance of the one found on the mirrored scan.
        epochs: fine-tuning epochs per round for the segmentation (the budget may stop it sooner).
        spur_epochs: stage-1 epochs per round for the spur model.
        refine_steps: spur refiner steps per round.
        lr: learning rate of the fine-tuning (the model starts from good weights: lower than training's).
        batch_size: images per step.
        seed: random seed (scan selection, phantom, training).
        threads: CPU threads (0: all cores).
        device: ``auto``, ``cpu`` or ``cuda[:k]``.
        spacing: (x, y) mm per pixel of the scans (None: the model's); the quality checks measure in mm.
        keep_unchanged: with corrected scans from ``antseg label``'s LabelMe folder, also fine-tune on the scans
            left exactly as it wrote them (default: left out, :mod:`antseg.data.prelabels`; give it when you
            checked them and found them right).
    """

    budget_s: float = 300.0
    rounds: int | None = None
    max_scans: int = 200
    min_accepted: int = 3
    min_in_domain: int = 3
    rehearsal: int = 24
    rehearsal_look: str = "histogram"
    spurs: bool = False
    spur_limit_mm: float = 0.25
    spur_mirror_mm: float = 0.1
    epochs: int = 8
    spur_epochs: int = 4
    refine_steps: int = 150
    lr: float = 5e-4
    batch_size: int = 4
    seed: int = 0
    threads: int = 0
    device: str = "auto"
    spacing: tuple[float, float] | None = None
    keep_unchanged: bool = False

    def __post_init__(self) -> None:
        """Check every field, so a bad value is refused before a run folder is made (CLI, YAML, API)."""
        self.budget_s = checks.number(self.budget_s, "budget_s (--budget)", minimum=0.0)
        if self.rounds is not None:
            self.rounds = checks.integer(self.rounds, "rounds (--rounds)", minimum=0)
        for name in ("max_scans", "min_accepted", "min_in_domain", "epochs", "spur_epochs", "batch_size"):
            setattr(self, name, checks.count(getattr(self, name), name))
        for name in ("rehearsal", "refine_steps", "threads"):
            setattr(self, name, checks.integer(getattr(self, name), name, minimum=0))
        self.seed = checks.integer(self.seed, "seed (--seed)", minimum=0)
        checks.choice(self.rehearsal_look, "rehearsal_look", STYLES)
        self.spurs = checks.flag(self.spurs, "spurs (--adapt-spurs)")
        self.keep_unchanged = checks.flag(self.keep_unchanged, "keep_unchanged (--keep-unchanged)")
        for name in ("spur_limit_mm", "spur_mirror_mm"):  # 0: no spur is close enough (none trusted, none kept)
            setattr(self, name, checks.number(getattr(self, name), name, minimum=0.0))
        self.lr = checks.positive(self.lr, "lr")
        self.device = checks.device(self.device, "device (--device)")
        if self.spacing is not None:
            self.spacing = checks.spacing(self.spacing, "spacing (--spacing)")

    @property
    def limit_s(self) -> float:
        """The budget in seconds, infinite when there is none (``budget_s`` 0)."""
        return self.budget_s or math.inf


def train_budget(seconds: float) -> float:
    """A training's ``time_budget_s`` for ``seconds`` of an adaptation's time: at least 1 s, 0 (none) when the
    adaptation has no limit."""
    return 0.0 if math.isinf(seconds) else max(1.0, seconds)
