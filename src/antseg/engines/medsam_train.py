"""MedSAM fine-tuning on a canonical dataset: one box per structure, Dice + BCE, the mask decoder (and optionally
the image encoder) trained, the prompt encoder frozen, as in MedSAM's recipe.

With a frozen encoder every image's embedding is computed once and cached on the training device (the
expensive part: about 4 MB and one ViT-B forward per image), so an epoch only runs the decoder. Boxes come
from the ground-truth masks, each side moved outwards by a random 0..``box_jitter`` pixels (at a 1024 input,
scaled with the input size) so the decoder tolerates the looser boxes of a model at inference. The validation
split (Dice of the low-resolution masks, ground-truth boxes) selects the best epoch.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from antseg.data.canonical import CanonicalDataset
from antseg.engines.medsam_model import decode, encoder_autocast, mask_box, resize_gray, scale_boxes, to_input
from antseg.errors import AntsegInputError


@dataclass
class MedsamTrainConfig:
    """Fine-tuning settings.

    Attributes:
        epochs: passes over the training images (the budget may stop earlier).
        budget_s: wall-clock limit in seconds, embedding cache included (0: none).
        batch_size: images per optimisation step (each with one box per structure present).
        lr, weight_decay: AdamW (MedSAM: 1e-4, 0.01).
        box_jitter: maximum outward shift of each box side, in pixels of a 1024 x 1024 input.
        tune_encoder: also train the image encoder (no embedding cache then; GPU only in practice).
        amp: bf16 autocast for the image encoder on CUDA.
        seed: random seed (shuffling, jitter).
    """

    epochs: int = 100
    budget_s: float = 0.0
    batch_size: int = 4
    lr: float = 1e-4
    weight_decay: float = 0.01
    box_jitter: float = 20.0
    tune_encoder: bool = False
    amp: bool = True
    seed: int = 0


@dataclass
class Sample:
    """One training image: its S x S MedSAM input, the structures' boxes (original pixels) and low-res targets."""

    image: np.ndarray  # (S, S) grey uint8, resized (1 MB at 1024; the float input is made when embedding)
    boxes: np.ndarray  # (K, 4) inclusive pixel boxes of the K structures present
    targets: torch.Tensor  # (K, s, s) float32 soft masks at the decoder's output size s = S / 4
    hw: tuple[int, int]


def make_samples(ds: CanonicalDataset, cases: list, structures: list[str], size: int) -> list[Sample]:
    """MedSAM inputs, ground-truth boxes and low-resolution targets of ``cases`` (structures without pixels skipped)."""
    idx = [ds.structures.index(s) for s in structures]
    low = size // 4
    out = []
    for c in cases:
        masks = ds.load_masks(c)[idx]
        keep = [k for k in range(len(idx)) if masks[k].any()]
        if not keep:
            continue
        boxes = np.array([mask_box(masks[k]) for k in keep], np.float32)
        tgt = np.stack([cv2.resize(masks[k].astype(np.float32), (low, low), interpolation=cv2.INTER_AREA)
                        for k in keep])  # fmt: skip
        img = resize_gray(ds.load_image(c, grayscale=True), size)
        out.append(Sample(img, boxes, torch.from_numpy(tgt), masks.shape[1:]))
    return out


def jitter_boxes(boxes: np.ndarray, hw: tuple[int, int], size: int, jitter: float, rng) -> np.ndarray:
    """Boxes (K, 4) at the S x S input, each side moved outwards by U(0, jitter * S / 1024) input pixels, clipped."""
    b = scale_boxes(boxes, hw, size)
    if jitter > 0:
        d = rng.uniform(0, jitter * size / 1024, b.shape).astype(np.float32)
        b = b + d * np.array([-1, -1, 1, 1], np.float32)
    return np.clip(b, 0, size - 1)


def dice_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over masks of soft Dice (squared denominators, as MedSAM) plus binary cross-entropy; (K, s, s) each."""
    p = torch.sigmoid(logits)
    inter = (p * target).flatten(1).sum(1)
    denom = (p * p).flatten(1).sum(1) + (target * target).flatten(1).sum(1)
    dice = 1 - (2 * inter + 1e-5) / (denom + 1e-5)
    return dice.mean() + torch.nn.functional.binary_cross_entropy_with_logits(logits, target)


class MedsamTrainer:
    """Fine-tunes ``sam`` in place; :meth:`fit` returns the best state and one row per epoch."""

    def __init__(self, sam: torch.nn.Module, device: torch.device, cfg: MedsamTrainConfig, log=print) -> None:
        self.sam, self.device, self.cfg, self.log = sam.to(device), device, cfg, log
        self.size = int(sam.image_encoder.img_size)
        self.cache: dict[int, torch.Tensor] = {}
        for p in sam.parameters():
            p.requires_grad_(False)
        self.trained = {"mask_decoder": sam.mask_decoder}
        if cfg.tune_encoder:
            self.trained["image_encoder"] = sam.image_encoder
        self.params = [p for m in self.trained.values() for p in m.parameters()]
        for p in self.params:
            p.requires_grad_(True)
        self.opt = torch.optim.AdamW(self.params, lr=cfg.lr, weight_decay=cfg.weight_decay)

    def embed(self, s: Sample, key: int | None, grad: bool = False) -> torch.Tensor:
        """(1, 256, g, g) image embedding; cached by ``key`` when the encoder is frozen."""
        if key is not None and key in self.cache:
            return self.cache[key]
        with torch.set_grad_enabled(grad), encoder_autocast(self.device, self.cfg.amp):
            emb = self.sam.image_encoder(torch.from_numpy(to_input(s.image))[None].to(self.device)).float()
        if key is not None and not grad:
            self.cache[key] = emb
        return emb

    def step(self, batch: list[tuple[int, Sample]], rng) -> float:
        self.sam.mask_decoder.train()
        self.sam.image_encoder.train(self.cfg.tune_encoder)
        loss = torch.zeros((), device=self.device)
        for key, s in batch:
            emb = self.embed(s, None if self.cfg.tune_encoder else key, grad=self.cfg.tune_encoder)
            boxes = jitter_boxes(s.boxes, s.hw, self.size, self.cfg.box_jitter, rng)
            logits = decode(self.sam, emb, torch.from_numpy(boxes).to(self.device))
            loss = loss + dice_bce(logits[:, 0], s.targets.to(self.device))
        loss = loss / len(batch)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach())

    @torch.no_grad()
    def validate(self, samples: list[Sample], offset: int) -> float:
        """Mean Dice of the thresholded low-resolution masks with ground-truth boxes."""
        self.sam.eval()
        dices = []
        for i, s in enumerate(samples):
            emb = self.embed(s, None if self.cfg.tune_encoder else offset + i)
            boxes = torch.from_numpy(scale_boxes(s.boxes, s.hw, self.size)).to(self.device)
            pred = (decode(self.sam, emb, boxes)[:, 0] > 0).float()
            tgt = (s.targets.to(self.device) > 0.5).float()
            inter = (pred * tgt).flatten(1).sum(1)
            den = pred.flatten(1).sum(1) + tgt.flatten(1).sum(1)
            dices += ((2 * inter + 1e-6) / (den + 1e-6)).tolist()
        return float(np.mean(dices)) if dices else math.nan

    def fit(self, train: list[Sample], val: list[Sample]) -> tuple[dict[str, torch.Tensor], list[dict]]:
        """Train until ``epochs`` or the budget; ``sam`` ends with the best epoch's weights. ``val`` may be
        ``train`` itself (the same list) when there is no validation split.

        Returns:
            (the whole SAM's state dict on the CPU, one row per epoch: loss, validation Dice, seconds).
        """
        if not train:
            raise AntsegInputError(None, "medsam: no training image with a structure to box")
        cfg, t0 = self.cfg, time.monotonic()
        rng = np.random.default_rng(cfg.seed)
        torch.manual_seed(cfg.seed)
        deadline = t0 + cfg.budget_s if cfg.budget_s > 0 else math.inf
        same = val is train  # no validation split: validate on the training images, one cache entry each
        offset = 0 if same else len(train)
        if not cfg.tune_encoder:
            todo = train if same else train + val
            self.log(f"medsam: caching {len(todo)} image embeddings (frozen encoder)")
            for i, s in enumerate(todo):
                self.embed(s, i)
            self.log(f"medsam: embeddings cached in {time.monotonic() - t0:.0f} s")
        rows, best, best_state = [], -math.inf, None
        for epoch in range(cfg.epochs):
            order = rng.permutation(len(train))
            losses = []
            for j in range(0, len(order), cfg.batch_size):
                losses.append(self.step([(int(i), train[i]) for i in order[j : j + cfg.batch_size]], rng))
                if time.monotonic() > deadline:
                    break
            dice = self.validate(val, offset)
            rows.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "val_dice": dice,
                         "seconds": round(time.monotonic() - t0, 2)})  # fmt: skip
            self.log(f"medsam: epoch {epoch + 1}  loss {rows[-1]['loss']:.4f}  val Dice {dice:.4f}")
            if best_state is None or dice > best:
                best = dice
                best_state = {n: copy.deepcopy(m.state_dict()) for n, m in self.trained.items()}
            if time.monotonic() > deadline:
                break
        for n, m in self.trained.items():
            m.load_state_dict(best_state[n])
        return {k: v.detach().cpu() for k, v in self.sam.state_dict().items()}, rows
