"""The MedSAM network and its pre/post-processing (segment-anything's modules, built here by size).

MedSAM is SAM ViT-B fine-tuned on medical images; it is box-prompted and used without SAM's own
preprocessing: the image is resized directly to S x S (S = 1024 for ViT-B, aspect not kept), min-max scaled
to [0, 1] and repeated to 3 channels (no mean/std); one box per structure, in pixel indices of the S x S input;
the decoder's low-resolution logits (S/4 x S/4) go through a sigmoid, are resized to the image and
thresholded at 0.5.

``ARCHS`` holds SAM ViT-B exactly (``vit_b``: the architecture of ``medsam_vit_b.pth``) and two smaller
encoders that run the same code path at a fraction of the cost: ``small`` (512 x 512 input, 4 blocks of
width 256) for CPU benchmarks, ``tiny`` (256 x 256, 2 blocks of width 64) for tests. The prompt encoder and
mask decoder are SAM's at every size. segment-anything is imported lazily (functions below only).
"""

from __future__ import annotations

import contextlib
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from antseg.errors import AntsegInputError

PROMPT_DIM = 256
PATCH = 16

#: Image-encoder sizes: SAM ViT-B and two reduced configurations of the same code path.
ARCHS: dict[str, dict[str, Any]] = {
    "vit_b": {"img_size": 1024, "embed_dim": 768, "depth": 12, "num_heads": 12, "global_attn": (2, 5, 8, 11),
              "window": 14},
    "small": {"img_size": 512, "embed_dim": 256, "depth": 4, "num_heads": 4, "global_attn": (1, 3), "window": 8},
    "tiny": {"img_size": 256, "embed_dim": 64, "depth": 2, "num_heads": 2, "global_attn": (1,), "window": 4},
}  # fmt: skip


def arch_spec(arch: str | dict[str, Any]) -> dict[str, Any]:
    """A named architecture (``vit_b``, ``small``, ``tiny``) or an explicit dict of the ``ARCHS`` keys."""
    if isinstance(arch, dict):
        missing = set(ARCHS["vit_b"]) - set(arch)
        if missing:
            raise AntsegInputError(None, f"medsam arch needs {', '.join(sorted(missing))}")
        return dict(arch)
    if arch not in ARCHS:
        raise AntsegInputError(None, f"unknown medsam arch {arch!r}; valid: {', '.join(ARCHS)}")
    return dict(ARCHS[arch])


def build_sam(arch: str | dict[str, Any]) -> torch.nn.Module:
    """An untrained SAM (segment_anything ``Sam``) with the given image encoder; SAM's prompt encoder and decoder."""
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    a = arch_spec(arch)
    size, grid = int(a["img_size"]), int(a["img_size"]) // PATCH
    encoder = ImageEncoderViT(
        img_size=size, patch_size=PATCH, embed_dim=int(a["embed_dim"]), depth=int(a["depth"]),
        num_heads=int(a["num_heads"]), mlp_ratio=4, out_chans=PROMPT_DIM, qkv_bias=True,
        norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), use_rel_pos=True, window_size=int(a["window"]),
        global_attn_indexes=tuple(a["global_attn"]),
    )  # fmt: skip
    prompt = PromptEncoder(
        embed_dim=PROMPT_DIM, image_embedding_size=(grid, grid), input_image_size=(size, size), mask_in_chans=16
    )
    decoder = MaskDecoder(
        num_multimask_outputs=3,
        transformer=TwoWayTransformer(depth=2, embedding_dim=PROMPT_DIM, mlp_dim=2048, num_heads=8),
        transformer_dim=PROMPT_DIM, iou_head_depth=3, iou_head_hidden_dim=256,
    )  # fmt: skip
    sam = Sam(encoder, prompt, decoder, pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375])
    return sam.eval()


def weights_path(path: str | Path) -> Path:
    """``path`` resolved; an input error naming the file when it is not on disk (nothing is ever downloaded)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise AntsegInputError(path, "MedSAM weights not found (nothing is downloaded: get medsam_vit_b.pth yourself)")
    return path.resolve()


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A SAM/MedSAM state dict (``medsam_vit_b.pth``, ``sam_vit_b_01ec64.pth`` or a ``{"model": ...}`` training
    checkpoint), loaded with ``weights_only=True``; a missing or unreadable file is an input error naming it."""
    path = weights_path(path)
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  (any unpickling problem: one line naming the file)
        raise AntsegInputError(path, f"not a readable PyTorch state dict ({type(exc).__name__})") from None
    if isinstance(sd, dict) and isinstance(sd.get("model"), dict):
        sd = sd["model"]
    if not isinstance(sd, dict) or not sd:
        raise AntsegInputError(path, "not a SAM state dict")
    return sd


def load_weights(sam: torch.nn.Module, path: str | Path) -> None:
    """Load SAM/MedSAM weights into ``sam`` (strict: every key and shape must match)."""
    try:
        sam.load_state_dict(read_state_dict(path))
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise AntsegInputError(path, f"does not fit this SAM architecture ({first})") from None


def resize_gray(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W) grey or (H, W, 3) RGB uint8 -> (S, S) grey uint8, resized directly (area when shrinking, bilinear
    when enlarging, so no overshoot)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    shrink = gray.shape[0] >= size and gray.shape[1] >= size
    return cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def to_input(small: np.ndarray) -> np.ndarray:
    """(S, S) grey uint8 -> (3, S, S) float32 in [0, 1], min-max scaled (a constant image gives zeros)."""
    x = small.astype(np.float32)
    lo, hi = float(x.min()), float(x.max())
    x = (x - lo) / max(hi - lo, 1e-8)
    return np.repeat(x[None], 3, axis=0)


def preprocess(image: np.ndarray, size: int) -> np.ndarray:
    """MedSAM's input: (H, W) grey or (H, W, 3) uint8 -> (3, S, S) float32 in [0, 1] (resized, min-max scaled)."""
    return to_input(resize_gray(image, size))


def mask_box(mask: np.ndarray, largest: bool = False) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) of a (H, W) mask in inclusive pixel indices; None when empty.

    Args:
        largest: the largest connected component's box only (for predicted masks with stray blobs).
    """
    m = mask.astype(np.uint8)
    if largest and m.any():
        n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        if n > 2:
            k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            m = (lab == k).astype(np.uint8)
    rows, cols = np.nonzero(m)
    if len(rows) == 0:
        return None
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


def scale_boxes(boxes: np.ndarray, hw: tuple[int, int], size: int) -> np.ndarray:
    """(N, 4) boxes in image pixels -> in the S x S input's pixels (MedSAM: box / [W, H, W, H] * S)."""
    h, w = hw
    return np.asarray(boxes, np.float32) / np.array([w, h, w, h], np.float32) * size


def decode(sam: torch.nn.Module, embedding: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Box-prompted masks for one image: (1, 256, g, g) embedding and (N, 4) boxes at the input size ->
    (N, 1, S/4, S/4) logits. One image per call: SAM's decoder repeats the embedding once per prompt."""
    sparse, dense = sam.prompt_encoder(points=None, boxes=boxes[:, None, :], masks=None)
    logits, _ = sam.mask_decoder(
        image_embeddings=embedding, image_pe=sam.prompt_encoder.get_dense_pe(), sparse_prompt_embeddings=sparse,
        dense_prompt_embeddings=dense, multimask_output=False,
    )  # fmt: skip
    return logits


def logits_to_masks(logits: torch.Tensor, hw: tuple[int, int]) -> np.ndarray:
    """(N, 1, s, s) logits -> (N, H, W) uint8 {0, 1}: sigmoid, bilinear resize to the image, > 0.5."""
    prob = torch.nn.functional.interpolate(torch.sigmoid(logits.float()), size=hw, mode="bilinear", align_corners=False)
    return (prob[:, 0] > 0.5).to(torch.uint8).cpu().numpy()


def encoder_autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast for the image encoder on CUDA (``amp``); a no-op context on the CPU (fp32)."""
    if amp and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
