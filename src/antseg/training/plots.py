"""Training curves: loss, IoU and Dice per epoch (the reference cornea project's figure)."""

from __future__ import annotations

from pathlib import Path


def plot_curves(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [r["epoch"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    axes[0].plot(ep, [r["train_loss"] for r in rows], label="train")
    axes[0].plot(ep, [r["val_loss"] for r in rows], label="val")
    axes[0].set_title("Dice + Focal loss")
    axes[1].plot(ep, [r["val_iou"] for r in rows], color="tab:green")
    axes[1].set_title("validation IoU (mean over structures)")
    axes[2].plot(ep, [r["val_dice"] for r in rows], color="tab:red")
    axes[2].set_title("validation Dice (mean over structures)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
