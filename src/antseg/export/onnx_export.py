"""Export a segmentation checkpoint to one self-describing ``.onnx`` file, checked against PyTorch.

The file holds the network (input ``image`` (B, C, H, W) float32 normalised as the checkpoint says, output
``logits`` (B, N, H, W)) and, in its metadata under the key ``antseg``, the checkpoint description (structures,
input size, channels, normalisation, threshold, side gate, spacing), the architecture and how it was checked.

The batch is always dynamic. Height and width are dynamic in multiples of the model's stride (the input
``antseg predict`` gives is the checkpoint's input size, a letterbox canvas) when the network allows it;
networks with fixed-size operations (PSPNet's adaptive pooling) are exported at the checkpoint's input size,
and the metadata says which (``dynamic_size``). Every export is run with ONNX Runtime on the same random inputs
as PyTorch, and the largest absolute difference of the logits is reported.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

import antseg
from antseg.errors import AntsegInputError
from antseg.inference.onnx_predictor import INSTALL_HINT, METADATA_KEY, ONNX_FORMAT
from antseg.io.output_folder import make_parents, remove_empty
from antseg.models.checkpoint import TASK_SEGMENTATION, read_checkpoint
from antseg.models.ensemble import MeanOfNets
from antseg.models.runs import segmentation_checkpoint
from antseg.models.wrappers import PadToMultiple

#: Largest absolute logit difference accepted between ONNX Runtime and PyTorch.
TOLERANCE = 1e-2


@dataclass
class OnnxExport:
    """An exported file: where, whether H/W are dynamic, the check's largest |logit difference| and shapes."""

    path: Path
    dynamic_size: bool
    max_abs_diff: float
    checked_shapes: list[tuple[int, ...]]
    seconds: float


class _Exportable(nn.Module):
    """:class:`PadToMultiple` written for ``torch.export`` with symbolic sizes: the same arithmetic, but the
    coordinate channels come from ``arange`` (``linspace`` fixes the size) and the pad is unconditional."""

    def __init__(self, wrapped: PadToMultiple) -> None:
        super().__init__()
        self.net, self.multiple, self.coords = wrapped.net, wrapped.multiple, wrapped.coords

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, hh, ww = x.shape
        if self.coords:
            gy = torch.arange(hh, dtype=x.dtype, device=x.device) * 2 / (hh - 1) - 1
            gx = torch.arange(ww, dtype=x.dtype, device=x.device) * 2 / (ww - 1) - 1
            x = torch.cat([x, gx.view(1, 1, 1, ww).expand(b, 1, hh, ww), gy.view(1, 1, hh, 1).expand(b, 1, hh, ww)], 1)
        m = self.multiple
        x = nn.functional.pad(x, (0, (m - ww % m) % m, 0, (m - hh % m) % m), mode="reflect")
        return self.net(x)[..., :hh, :ww]


def _exportable(model: nn.Module) -> tuple[nn.Module, int]:
    """``model`` written for export with symbolic sizes, and the stride its height and width must be a multiple of
    (an ensemble: each member written so, the largest stride of its members)."""
    if isinstance(model, PadToMultiple):
        return _Exportable(model), model.multiple
    if isinstance(model, MeanOfNets) and all(isinstance(m, PadToMultiple) for m in model.nets):
        return MeanOfNets([_Exportable(m) for m in model.nets]), max(m.multiple for m in model.nets)
    return model, 1


def _require_onnx() -> None:
    missing = []
    for name in ("onnx", "onnxscript", "onnxruntime"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise AntsegInputError(None, f"ONNX export needs {', '.join(missing)}: {INSTALL_HINT}")


def _export(model: nn.Module, example: torch.Tensor, path: Path, dynamic_size: bool, multiple: int) -> None:
    from torch.export import Dim

    dims = {0: Dim("batch", min=1, max=1024)}
    if dynamic_size:
        dims[2] = multiple * Dim("h_blocks", min=1, max=16384 // multiple)
        dims[3] = multiple * Dim("w_blocks", min=1, max=16384 // multiple)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=True,
            external_data=False,
            input_names=["image"],
            output_names=["logits"],
            dynamic_shapes=(dims,),
            verbose=False,
        )


def _check(model: nn.Module, path: Path, shapes: list[tuple[int, ...]]) -> float:
    """Largest |ONNX Runtime - PyTorch| over random inputs of ``shapes`` (raises when ONNX Runtime fails)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(0)
    worst = 0.0
    for shape in shapes:
        x = torch.randn(*shape, generator=gen)
        with torch.no_grad():
            ref = model(x).numpy()
        got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
        if got.shape != ref.shape:
            raise ValueError(f"ONNX output shape {got.shape} != PyTorch {ref.shape}")
        worst = max(worst, float(np.abs(got - ref).max()))
    return worst


def _add_metadata(path: Path, doc: dict) -> None:
    import onnx

    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(doc)
    proto.doc_string = f"antseg {antseg.__version__} segmentation model: {', '.join(doc['meta']['structures'])}"
    onnx.save(proto, str(path))


def _writable(tmp: Path, out: Path) -> None:
    """Create (and leave, empty) the temporary file the export writes: proves the folder can be written."""
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666))
    except OSError as exc:
        raise AntsegInputError(out, f"cannot be written here ({exc.strerror or exc})") from None


def export_onnx(weights: str | Path, out: str | Path, overwrite: bool = False) -> OnnxExport:
    """Export the segmentation model of ``weights`` (run folder or checkpoint) to the ``.onnx`` file ``out``.

    Raises:
        AntsegInputError: the ONNX packages are missing, not a segmentation checkpoint, ``out`` exists (without
            ``overwrite``), or the export fails or disagrees with PyTorch.
    """
    _require_onnx()
    t0 = time.perf_counter()
    out = Path(out)
    if out.suffix.lower() != ".onnx":
        raise AntsegInputError(out, "the output file must end in .onnx")
    if out.is_dir():
        raise AntsegInputError(out, "is a folder: give the .onnx file to write (--overwrite replaces only a file)")
    if out.exists() and not overwrite:
        raise AntsegInputError(out, "exists (use --overwrite)")
    ck = read_checkpoint(segmentation_checkpoint(weights))
    if ck.meta.task != TASK_SEGMENTATION:
        raise AntsegInputError(ck.path, f"is a {ck.meta.task} checkpoint: only segmentation models export")
    model = ck.build("cpu")
    net, multiple = _exportable(model)
    c = int(ck.meta.in_channels)
    h, w = ck.meta.input_hw
    made = make_parents(out)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        _writable(tmp, out)  # a read-only or full disk is found before minutes of export
        result = None
        if h % multiple == 0 and w % multiple == 0:
            try:  # dynamic height and width, checked at the input size and at one more stride on each side
                _export(net, torch.zeros(2, c, h, w), tmp, True, multiple)
                shapes = [(2, c, h, w), (1, c, h + multiple, w + multiple)]
                result = (True, _check(model, tmp, shapes), shapes)
            except Exception:  # noqa: BLE001  fixed-size operations: fall back to the checkpoint's size
                result = None
            if result is not None and not result[1] <= TOLERANCE:  # ran, but sizes baked in (PSPNet's pooling)
                result = None
        if result is None:
            try:
                _export(net, torch.zeros(2, c, h, w), tmp, False, multiple)
                shapes = [(2, c, h, w), (1, c, h, w)]
                result = (False, _check(model, tmp, shapes), shapes)
            except OSError as exc:
                raise AntsegInputError(out, f"cannot be written ({exc.strerror or exc})") from None
            except Exception as exc:  # noqa: BLE001
                msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
                raise AntsegInputError(ck.path, f"ONNX export failed ({type(exc).__name__}: {msg})") from None
        dynamic, diff, shapes = result
        if not diff <= TOLERANCE:
            raise AntsegInputError(ck.path, f"ONNX model differs from PyTorch by up to {diff:.3g} (> {TOLERANCE:g})")
        doc = {
            "format": ONNX_FORMAT,
            "version": 1,
            "meta": ck.meta.to_dict(),
            "model": ck.model,
            "dynamic_size": dynamic,
            "size_multiple": multiple,
            "max_abs_diff": diff,
            "checked_shapes": [list(s) for s in shapes],
            "source": str(ck.path),
            "torch": torch.__version__,
            "antseg_version": antseg.__version__,
        }
        try:
            _add_metadata(tmp, doc)
            os.replace(tmp, out)
        except OSError as exc:
            raise AntsegInputError(out, f"cannot be written ({exc.strerror or exc})") from None
    except BaseException:
        if not out.exists():
            remove_empty(made)
        raise
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.data").unlink(missing_ok=True)
    return OnnxExport(out, dynamic, diff, shapes, time.perf_counter() - t0)
