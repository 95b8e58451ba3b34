"""nnU-Net v2 as an antseg engine, the way its authors intend for 2D data: PNG raw data, 2d configuration.

``train``: export the train + val cases to nnU-Net raw (:mod:`antseg.engines.nnunet_raw`, overlapping
structures as regions), fingerprint, plan and preprocess the ``2d`` configuration with few processes, train
in-process with :class:`~antseg.engines.nnunet_trainer.AntsegTrainer` (fold ``all`` by default), write
``<run>/nnunet.json`` and ``<run>/DONE``. ``load``: an in-process ``nnUNetPredictor``, initialised manually
from the run's own files (no environment variables, no trainer-class lookup, no files per image).

nnU-Net's folders (raw, preprocessed, results) live in ``cfg.options["work"]`` (default ``<run>/nnunet``);
its environment variables are set only while nnU-Net runs (:func:`~antseg.engines.nnunet_raw.nnunet_env`)
and restored afterwards.
nnunetv2 is imported lazily, so importing this module never needs it.

Options (``EngineConfig.options``): ``work``, ``configuration`` ("2d"), ``fold`` ("all", or 0 = train on
the train split, validate on val), ``dataset_id`` (501), ``planner`` ("ExperimentPlanner"), ``iterations``
(per epoch, nnU-Net: 250), ``val_iterations``, ``processes`` (planning/preprocessing, 1), ``da_processes``
(augmentation workers; default 0 on CPU, nnU-Net's own on CUDA), ``mirroring`` (test-time mirroring, True).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from antseg import checks
from antseg.config import load_options
from antseg.engines.base import Engine, EngineConfig, EngineOutput, EnginePredictor
from antseg.engines.nnunet_raw import LabelTable, decode_labels, export_raw, nnunet_env
from antseg.engines.registry import register_engine
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_write_text

META = "nnunet.json"
TRAINER = "AntsegTrainer"


@dataclass
class NnunetOptions:
    """nnU-Net's settings (``--option nnunet.KEY=VALUE``), checked as they are made.

    Attributes:
        work: folder for nnU-Net's raw, preprocessed and results folders (default: ``<run>/nnunet``).
        configuration: nnU-Net configuration (``2d``).
        fold: ``all`` (train on train + val) or 0 (the dataset's own train/val split).
        dataset_id: nnU-Net dataset number (1-999).
        planner: nnU-Net experiment planner class.
        iterations, val_iterations: iterations per epoch (default: nnU-Net's, fitted to the budget).
        processes: preprocessing processes.
        da_processes: data-augmentation processes (default: 0 on the CPU, nnU-Net's otherwise).
        mirroring: test-time mirroring.
    """

    work: Path | None = None
    configuration: str = "2d"
    fold: str = "all"
    dataset_id: int = 501
    planner: str = "ExperimentPlanner"
    iterations: int | None = None
    val_iterations: int | None = None
    processes: int = 1
    da_processes: int | None = None
    mirroring: bool = True

    def __post_init__(self) -> None:
        if str(self.fold) not in ("all", "0"):
            raise AntsegInputError(
                None, f"nnunet fold must be 'all' or 0 (the dataset's train/val split), got {self.fold}"
            )
        self.dataset_id = checks.integer(self.dataset_id, "--option nnunet.dataset_id", minimum=1, maximum=999)
        self.processes = checks.integer(self.processes, "--option nnunet.processes", minimum=1)
        for key in ("iterations", "val_iterations", "da_processes"):
            if getattr(self, key) is not None:
                minimum = 0 if key == "da_processes" else 1
                setattr(self, key, checks.integer(getattr(self, key), f"--option nnunet.{key}", minimum=minimum))
        for key in ("configuration", "planner"):
            if not isinstance(getattr(self, key), str) or not getattr(self, key):
                raise AntsegInputError(None, f"--option nnunet.{key} must be a name, got {getattr(self, key)!r}")
        checks.choice(self.mirroring, "--option nnunet.mirroring", (True, False))

    @property
    def fold_index(self) -> str | int:
        """The fold as nnU-Net takes it: ``all`` or 0."""
        return "all" if str(self.fold) == "all" else 0


@register_engine("nnunet")
class NnUNetEngine(Engine):
    """nnU-Net v2 (2d configuration, region-based for overlapping structures), trained and run in-process."""

    tasks = ("segmentation",)
    extra = "nnunet"
    package = "nnunetv2"

    def __init__(self) -> None:
        self.check_available()  # get_engine("nnunet") without the extra: one-line MissingExtraError

    def check_options(self, cfg: EngineConfig) -> None:
        """Known keys, fold ``all`` or 0, whole numbers where nnU-Net needs them, ``mirroring`` true or false."""
        load_options(NnunetOptions, cfg.options, "nnunet")

    def train(
        self, dataset: str | Path, run: str | Path, cfg: EngineConfig, log: Callable[[str], None] = print
    ) -> None:
        """Export, plan, preprocess and train; everything nnU-Net writes goes under the work folder.

        Raises:
            MissingExtraError: nnunetv2 is not installed.
            AntsegInputError: bad options or device, or a dataset without train/val cases.
        """
        self.check_available()
        t0 = time.monotonic()
        run = Path(run).resolve()
        opts = load_options(NnunetOptions, cfg.options, "nnunet")
        device = str(checks.resolve_device(cfg.device))
        if device.startswith("cuda:") and device != "cuda:0":
            raise AntsegInputError(None, "nnU-Net trains on cuda:0 only: select the GPU with CUDA_VISIBLE_DEVICES")
        run.mkdir(parents=True, exist_ok=True)
        (run / "DONE").unlink(missing_ok=True)
        work = Path(opts.work or run / "nnunet").resolve()
        exp = export_raw(dataset, work / "raw", opts.dataset_id)
        if opts.fold_index == 0 and not (exp.splits["train"] and exp.splits["val"]):
            raise AntsegInputError(Path(dataset), "nnunet fold 0 needs cases in both the train and the val split")
        log(f"nnunet: exported {sum(map(len, exp.splits.values()))} cases to {exp.folder}")
        from antseg.engines import nnunet_trainer as nt

        console = sys.stdout

        def say(msg: str) -> None:  # nnU-Net's own prints go to nnunet_stdout.log, ours to the console
            with contextlib.redirect_stdout(console):
                log(msg)

        with open(run / "nnunet_stdout.log", "a", encoding="utf-8") as out, contextlib.redirect_stdout(out):
            with nnunet_env(work):
                plans_id = nt.plan_and_preprocess(opts.dataset_id, opts.configuration, opts.planner, opts.processes)
                if opts.fold_index == 0:
                    splits = [{"train": exp.splits["train"], "val": exp.splits["val"]}]
                    atomic_write_text(work / "preprocessed" / exp.name / "splits_final.json", json.dumps(splits))
            plan_s = time.monotonic() - t0
            say(f"nnunet: planned and preprocessed ({plan_s:.0f} s)")
            da = opts.da_processes
            da = "0" if da is None and device == "cpu" else (None if da is None else str(da))
            with nnunet_env(work, **({"nnUNet_n_proc_DA": da} if da is not None else {})):
                trainer = nt.train_nnunet(
                    work / "preprocessed" / exp.name,
                    plans_id,
                    opts.configuration,
                    opts.fold_index,
                    device,
                    cfg.seed,
                    schedule=(cfg.epochs, opts.iterations, opts.val_iterations),
                    deadline=t0 + cfg.budget_s if cfg.budget_s > 0 else None,
                    log=say,
                )
        model = Path(trainer.output_folder_base)
        meta = {
            "structures": list(exp.table.structures),
            "table": exp.table.to_json(),
            "dataset": exp.name,
            "plans": plans_id,
            "configuration": opts.configuration,
            "fold": opts.fold_index,
            "trainer": TRAINER,
            "model": str(model.relative_to(run)) if model.is_relative_to(run) else str(model),
            "mirroring": opts.mirroring,
            "epochs_done": trainer.epochs_done,
            "iterations": trainer.num_iterations_per_epoch,
            "plan_seconds": round(plan_s, 1),
            "train_seconds": round(time.monotonic() - t0, 1),
            "device": device,
            "nnunetv2": _version(),
        }
        atomic_write_text(run / META, json.dumps(meta, indent=2) + "\n")
        atomic_write_text(run / "DONE", "")
        log(f"nnunet: trained {trainer.epochs_done} epoch(s) in {meta['train_seconds']} s -> {run}")

    def load(self, run: str | Path, device: str = "auto", mirroring: bool | None = None) -> EnginePredictor:
        """The trained network of ``run`` in an in-process ``nnUNetPredictor``.

        Args:
            mirroring: test-time mirroring; None: the run's ``mirroring`` option (default True).
        """
        self.check_available()
        return NnUNetRunPredictor(Path(run), str(checks.resolve_device(device)), mirroring)


def _version() -> str:
    from importlib.metadata import version

    return version("nnunetv2")


def _load_checkpoint(path: Path) -> dict:
    """An nnU-Net checkpoint with ``weights_only`` loading: tensors, containers and numpy scalars/arrays only."""
    import torch

    core = getattr(np, "_core", None) or np.core
    allowed = [core.multiarray.scalar, core.multiarray._reconstruct, np.ndarray, np.dtype]
    allowed += [type(np.dtype(t)) for t in (np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_)]
    with torch.serialization.safe_globals(allowed):
        return torch.load(path, map_location="cpu", weights_only=True)


class NnUNetRunPredictor(EnginePredictor):
    """A trained run's network in nnU-Net's own predictor (preprocessing, sliding window, resampling), in-process.

    Attributes:
        structures: canonical structure order of the outputs.
        use_mirroring: test-time mirroring on/off (may be changed between calls).
    """

    landmarks: list[str] = []
    in_channels = 1

    def __init__(self, run: Path, device: str, mirroring: bool | None = None) -> None:
        import torch
        from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
        from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
        from nnunetv2.utilities.label_handling.label_handling import determine_num_input_channels
        from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

        try:
            meta = json.loads((run / META).read_text(encoding="utf-8"))
            model = run / meta["model"]
            plans = json.loads((model / "plans.json").read_text(encoding="utf-8"))
            self.dataset_json = json.loads((model / "dataset.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            raise AntsegInputError(run, f"not a trained nnunet run ({exc})") from None
        ckpt_path = model / f"fold_{meta['fold']}" / "checkpoint_final.pth"
        if not ckpt_path.is_file():
            raise AntsegInputError(ckpt_path, "missing (training did not finish)")
        ckpt = _load_checkpoint(ckpt_path)
        self.plans = PlansManager(plans)
        self.config = self.plans.get_configuration(meta["configuration"])
        self.labels = self.plans.get_label_manager(self.dataset_json)
        n_in = determine_num_input_channels(self.plans, self.config, self.dataset_json)
        net = nnUNetTrainer.build_network_architecture(
            self.plans, self.config, n_in, self.labels.num_segmentation_heads, enable_deep_supervision=False
        )
        net.load_state_dict(ckpt["network_weights"])
        self.n_parameters = sum(p.numel() for p in net.parameters() if p.requires_grad)
        dev = torch.device(device)
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a notice on CPU
            self.predictor = nnUNetPredictor(
                use_mirroring=meta.get("mirroring", True) if mirroring is None else mirroring,
                perform_everything_on_device=dev.type == "cuda",
                device=dev,
                allow_tqdm=False,
            )
        self.predictor.manual_initialization(
            net.to(dev).eval(),
            self.plans,
            self.config,
            [ckpt["network_weights"]],
            self.dataset_json,
            meta["trainer"],
            ckpt.get("inference_allowed_mirroring_axes"),
        )
        self.preprocessor = self.config.preprocessor_class(verbose=False)
        self.table = LabelTable.from_json(meta["table"])
        self.structures = list(self.table.structures)
        heads = [k for k in self.dataset_json["labels"] if k not in ("background", "ignore")]
        self.channels = {s: heads.index(s) for s in self.structures if s in heads} if self.labels.has_regions else {}

    @property
    def use_mirroring(self) -> bool:
        return bool(self.predictor.use_mirroring)

    @use_mirroring.setter
    def use_mirroring(self, on: bool) -> None:
        self.predictor.use_mirroring = bool(on)

    def predict(self, image: np.ndarray) -> EngineOutput:
        """One image, (H, W) grey or (H, W, 3) RGB uint8 -> canonical masks (N, H, W) uint8 at (H, W)."""
        import torch
        from nnunetv2.inference.export_prediction import convert_predicted_logits_to_segmentation_with_correct_shape

        if image.ndim == 3 and image.shape[2] == 3:
            import cv2

            image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if image.ndim != 2:
            raise AntsegInputError(None, f"image must be (H, W) or (H, W, 3), got {image.shape}")
        data = image.astype(np.float32)[None, None]  # (C=1, 1, H, W), as nnU-Net's PNG reader gives it
        data, _, props = self.preprocessor.run_case_npy(
            data, None, {"spacing": [999.0, 1.0, 1.0]}, self.plans, self.config, self.dataset_json
        )
        logits = self.predictor.predict_sliding_window_return_logits(torch.from_numpy(data).contiguous()).cpu()
        regions = self.labels.has_regions
        out = convert_predicted_logits_to_segmentation_with_correct_shape(
            logits, self.plans, self.config, self.labels, props, regions, torch.get_num_threads()
        )
        if not regions:
            return EngineOutput(masks=decode_labels(np.asarray(out)[0], self.table))
        probs = np.asarray(out[1])[:, 0]  # (regions, H, W) sigmoid probabilities
        masks = np.zeros((len(self.structures), *image.shape), np.uint8)
        for k, s in enumerate(self.structures):
            if s in self.channels:
                masks[k] = probs[self.channels[s]] > 0.5
        return EngineOutput(masks=masks)
