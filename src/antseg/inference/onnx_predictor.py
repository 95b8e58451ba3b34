"""Exported ``.onnx`` models run with ONNX Runtime: the batched video backend and the per-image predictor.

An antseg ``.onnx`` file carries its checkpoint description in the model metadata (key ``antseg``, written by
:func:`antseg.export.export_onnx`), so it is used exactly like the checkpoint it came from. ONNX Runtime is an
optional extra, imported only here.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from antseg import checks
from antseg.errors import AntsegInputError
from antseg.inference.predictor import MetaProperties, Prediction
from antseg.models.checkpoint import TASK_SEGMENTATION, CheckpointMeta

METADATA_KEY = "antseg"
ONNX_FORMAT = "antseg-onnx"
INSTALL_HINT = "pip install 'antseg[onnx]'"


def import_onnxruntime():
    """The ``onnxruntime`` module, or a one-line error naming the extra to install."""
    try:
        import onnxruntime
    except ImportError:
        raise AntsegInputError(None, f"running an .onnx model needs ONNX Runtime: {INSTALL_HINT}") from None
    return onnxruntime


def _providers(ort, device: str) -> list[str]:
    device = checks.device(device)
    available = ort.get_available_providers()
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in available:
            raise AntsegInputError(None, f"device {device!r} requested but ONNX Runtime has no CUDA provider here")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "auto" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class OnnxBackend:
    """A ``.onnx`` file exported by antseg, run with ONNX Runtime: ``backend(batch) -> logits`` (numpy).

    Args:
        path: the ``.onnx`` file.
        device: ``auto`` (CUDA when ONNX Runtime has it), ``cpu`` or ``cuda``.
        threads: intra-op threads (0: ONNX Runtime's default, one per physical core).
    """

    name = "onnxruntime"

    def __init__(self, path: str | Path, device: str = "auto", threads: int = 0) -> None:
        ort = import_onnxruntime()
        path = Path(path)
        if not path.is_file():
            raise AntsegInputError(path, "ONNX model not found")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=_providers(ort, device))
        except Exception as exc:  # noqa: BLE001  ONNX Runtime raises its own, undocumented types
            raise AntsegInputError(path, f"not a readable ONNX model ({type(exc).__name__})") from None
        info = self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        try:
            doc = json.loads(info or "")
            if doc.get("format") != ONNX_FORMAT:
                raise ValueError
            self.meta = CheckpointMeta.from_dict(doc["meta"])
        except (ValueError, KeyError, TypeError):
            raise AntsegInputError(path, "ONNX model was not exported by antseg (no antseg metadata)") from None
        if self.meta.task != TASK_SEGMENTATION:
            raise AntsegInputError(path, f"is a {self.meta.task} model, not a segmentation model")
        self.export_info = doc
        self.source = path
        self.size_multiple: int | None = int(doc.get("size_multiple") or 1) if doc.get("dynamic_size") else None
        self.input_name = self.session.get_inputs()[0].name
        self.device = "cuda" if self.session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(batch, np.float32)})[0]


class OnnxPredictor(MetaProperties):
    """The ONNX Runtime counterpart of :class:`~antseg.inference.predictor.Predictor` (same outputs)."""

    def __init__(self, path: str | Path, device: str = "auto") -> None:
        self.backend = OnnxBackend(path, device)
        self.meta = self.backend.meta
        self.checkpoint = SimpleNamespace(path=Path(path), meta=self.meta)
        self.structures: list[str] = list(self.meta.structures)
        self.threshold = float(self.meta.threshold)

    def predict(self, image: np.ndarray) -> Prediction:
        """Segment one image ((H, W) grey or (H, W, 3) RGB uint8) at its own size."""
        import torch

        from antseg.preprocessing import gate_sides, prepare_image, side_channels

        x, lb = prepare_image(image, int(self.meta.in_channels), self.meta.input_hw, self.meta.normalization)
        logits = torch.from_numpy(self.backend(x[None]))
        if self.meta.side_gate:
            logits = gate_sides(logits, side_channels(self.structures), lb.inner_hw[1])
        probs = torch.sigmoid(lb.invert(logits))[0].numpy()
        return Prediction((probs > self.threshold).astype(np.uint8), probs.astype(np.float32))


def load_predictor(weights: str | Path, device: str = "auto"):
    """A per-image predictor: :class:`OnnxPredictor` for a ``.onnx`` file, else a PyTorch ``Predictor``."""
    if Path(weights).suffix.lower() == ".onnx":
        return OnnxPredictor(weights, device)
    from antseg.inference.predictor import Predictor

    return Predictor(weights, device)
