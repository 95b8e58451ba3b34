"""What a model is: the description stored in its checkpoint(s), and for the shipped models their card."""

from __future__ import annotations

from pathlib import Path

from antseg.models.checkpoint import TASK_LANDMARKS, read_checkpoint
from antseg.models.model_card import card_summary, read_card
from antseg.models.runs import checkpoints_in
from antseg.models.shipped import is_default, is_shipped


def architecture(spec: dict) -> str:
    """A model's architecture in words: its registered name, or ``ensemble of N <member>``."""
    name = spec.get("name", "")
    if name == "ensemble":
        kw = spec.get("kwargs", {})
        return f"ensemble of {kw.get('members', '?')} {kw.get('member', '?')}"
    return name


def model_info(weights: str | Path) -> dict:
    """``{"checkpoints": [per checkpoint: task, path, architecture, outputs, input size, spacing, training data,
    synthetic, version], "card": the shipped models' card or None, "summary": its figures as sentences}``."""
    out = []
    shipped = is_default(weights)
    for task, path in checkpoints_in(weights):
        ck = read_checkpoint(path)
        m = ck.meta
        shipped = shipped or is_shipped(path)
        out.append({
            "task": task, "path": str(path), "architecture": architecture(ck.model),
            "outputs": list(m.landmarks if task == TASK_LANDMARKS else m.structures), "input_size": list(m.input_size),
            "in_channels": int(m.in_channels), "spacing_mm": m.spacing, "modality": m.modality,
            "dataset": m.dataset, "synthetic": bool(m.synthetic), "recipe": m.recipe, "epoch": m.epoch,
            "antseg_version": m.antseg_version,
        })  # fmt: skip
    card = read_card() if shipped else None
    return {"checkpoints": out, "card": card, "summary": card_summary(card) if card is not None else ""}
