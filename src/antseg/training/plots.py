"""Training curves: loss, IoU and Dice per epoch (the reference cornea project's figure)."""

from __future__ import annotations

from pathlib import Path


def plot_curves(rows: list[dict], path: Path, panels: list[tuple[str, str]] | None = None) -> None:
    """Loss curves plus one panel per (column, title); segmentation shows IoU and Dice."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [r["epoch"] for r in rows]
    panels = panels or [
        ("val_iou", "validation IoU (mean over structures)"),
        ("val_dice", "validation Dice (mean over structures)"),
    ]
    fig, axes = plt.subplots(1, 1 + len(panels), figsize=(4.4 * (1 + len(panels)), 3.6))
    axes[0].plot(ep, [r["train_loss"] for r in rows], label="train")
    axes[0].plot(ep, [r["val_loss"] for r in rows], label="val")
    axes[0].set_title("loss")
    for ax, (key, title), colour in zip(axes[1:], panels, ("tab:green", "tab:red", "tab:purple"), strict=False):
        ax.plot(ep, [r[key] for r in rows], color=colour)
        ax.set_title(title)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
