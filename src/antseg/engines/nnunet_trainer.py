"""Training with nnU-Net in-process: plan + preprocess through its API, and its default trainer on antseg's
schedule (epochs, iterations per epoch, wall-clock budget).

Imports nnunetv2 at module level: import this module only after ``NnUNetEngine.check_available()``, inside
:func:`antseg.engines.nnunet.nnunet_env` (nnU-Net's folders come from the environment).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import nnunetv2
import numpy as np
import torch
from nnunetv2.experiment_planning.plan_and_preprocess_api import (
    extract_fingerprint_dataset,
    plan_experiment_dataset,
    preprocess_dataset,
)
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
from nnunetv2.utilities.find_class_by_name import recursive_find_python_class

from antseg.errors import AntsegInputError


def plan_and_preprocess(
    dataset_id: int, configuration: str = "2d", planner: str = "ExperimentPlanner", processes: int = 1
) -> str:
    """Fingerprint, plan and preprocess one configuration (``nnUNetv2_plan_and_preprocess -c 2d -np N``).

    nnU-Net runs these steps in ``spawn`` process pools: a script that calls this needs the
    ``if __name__ == "__main__":`` guard.

    Returns:
        the plans identifier (e.g. ``nnUNetPlans``).
    """
    n = max(1, int(processes))
    extract_fingerprint_dataset(dataset_id, num_processes=n, clean=True, verbose=False, show_progress_bar=False)
    cls = recursive_find_python_class(
        str(Path(nnunetv2.__path__[0]) / "experiment_planning"), planner, "nnunetv2.experiment_planning"
    )
    if cls is None:
        raise AntsegInputError(None, f"unknown nnU-Net planner {planner!r}")
    _, plans_id = plan_experiment_dataset(dataset_id, cls)
    preprocess_dataset(dataset_id, plans_id, (configuration,), (n,), show_progress_bar=False)
    return plans_id


def train_nnunet(
    preprocessed: Path,
    plans_id: str,
    configuration: str,
    fold: int | str,
    device: str,
    seed: int,
    schedule: tuple[int | None, int | None, int | None],
    deadline: float | None,
    log: Callable[[str], None] | None = None,
) -> AntsegTrainer:
    """Train :class:`AntsegTrainer` on a preprocessed dataset folder; returns the finished trainer.

    Args:
        preprocessed: ``<nnUNet_preprocessed>/DatasetXXX_name``.
        schedule: (epochs, iterations per epoch, validation iterations); None keeps nnU-Net's value.
        deadline: ``time.monotonic()`` by which training must end, or None.
    """
    plans = json.loads((preprocessed / f"{plans_id}.json").read_text(encoding="utf-8"))
    if configuration not in plans["configurations"]:
        raise AntsegInputError(
            None, f"configuration {configuration!r} not planned; have {list(plans['configurations'])}"
        )
    plans["continue_training"] = False
    dataset_json = json.loads((preprocessed / "dataset.json").read_text(encoding="utf-8"))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    trainer = AntsegTrainer(plans, configuration, fold, dataset_json, torch.device(device))
    trainer.configure(*schedule, deadline=deadline, log=log)
    trainer.run_training()
    return trainer


class AntsegTrainer(nnUNetTrainer):
    """``nnUNetTrainer`` (same network, loss, augmentation, poly learning rate) on antseg's schedule.

    Set the schedule with :meth:`configure` before :meth:`run_training`. With a budget, training stops when
    the next epoch would pass the deadline (checked after every iteration too, so one long epoch cannot
    overrun it by more than one iteration); with a budget and no epoch count, the number of epochs is fitted
    to the budget after the first epoch so the learning rate still decays to zero.
    """

    deadline: float | None = None  # time.monotonic() value
    fit_epochs: bool = False
    log_fn: Callable[[str], None] | None = None
    epochs_done: int = 0

    def configure(
        self,
        epochs: int | None,
        iterations: int | None,
        val_iterations: int | None,
        deadline: float | None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        """Schedule: None keeps nnU-Net's defaults (1000 epochs of 250 iterations, 50 validation iterations).

        Args:
            epochs: epochs to train (with a deadline and None: fitted to the budget after epoch 1; 0: none, the
                final checkpoint holds the initial, untrained network, e.g. for timing).
            iterations: training iterations (batches) per epoch.
            val_iterations: pseudo-Dice validation iterations per epoch (default: iterations // 5, 1..50).
            deadline: ``time.monotonic()`` by which training must end, or None.
            log: receives one line per epoch.
        """
        if iterations is not None:
            self.num_iterations_per_epoch = int(iterations)
            if val_iterations is None:
                val_iterations = min(50, max(1, int(iterations) // 5))
        if val_iterations is not None:
            self.num_val_iterations_per_epoch = int(val_iterations)
        self.fit_epochs = epochs is None and deadline is not None
        if epochs is not None:
            self.num_epochs = int(epochs)
        self.deadline = deadline
        self.log_fn = log
        self.save_every = max(self.save_every, self.num_epochs + 1)  # no periodic "latest" checkpoint; final+best

    def configure_optimizers(self):
        """nnU-Net's SGD + poly schedule; the schedule needs at least one epoch (``epochs=0`` trains none)."""
        epochs, self.num_epochs = self.num_epochs, max(1, self.num_epochs)
        try:
            return super().configure_optimizers()
        finally:
            self.num_epochs = epochs

    def print_to_log_file(self, *args, also_print_to_console: bool = True, add_timestamp: bool = True) -> None:
        """Everything goes to nnU-Net's log file in the output folder, nothing to the console."""
        super().print_to_log_file(*args, also_print_to_console=False, add_timestamp=add_timestamp)

    def _past_deadline(self, margin: float = 0.0) -> bool:
        return self.deadline is not None and time.monotonic() + margin > self.deadline

    def _fit_schedule(self, epoch_s: float) -> None:
        left = self.deadline - time.monotonic()
        self.num_epochs = self.current_epoch + max(0, int(left // max(epoch_s, 1e-3)))
        self.lr_scheduler.max_steps = max(self.num_epochs, 1)
        self.fit_epochs = False

    def run_training(self) -> None:
        """nnU-Net's epoch loop (same hooks, same order) with the budget checks."""
        self.on_train_start()
        while self.current_epoch < self.num_epochs:
            t0 = time.monotonic()
            self.on_epoch_start()
            self.on_train_epoch_start()
            outputs = []
            for _ in range(self.num_iterations_per_epoch):
                outputs.append(self.train_step(next(self.dataloader_train)))
                if self._past_deadline():
                    break
            self.on_train_epoch_end(outputs)
            with torch.no_grad():
                self.on_validation_epoch_start()
                val = []
                for _ in range(self.num_val_iterations_per_epoch):
                    val.append(self.validation_step(next(self.dataloader_val)))
                    if self._past_deadline():
                        break
                self.on_validation_epoch_end(val)
            self.on_epoch_end()
            self.epochs_done += 1
            epoch_s = time.monotonic() - t0
            if self.log_fn is not None:
                dice = [round(float(d), 3) for d in self.logger.get_value("dice_per_class_or_region", step=-1)]
                loss = float(self.logger.get_value("train_losses", step=-1))
                self.log_fn(f"nnunet epoch {self.current_epoch}: loss {loss:.4f}, pseudo dice {dice}, {epoch_s:.1f} s")
            if self.fit_epochs:
                self._fit_schedule(epoch_s)
            if self._past_deadline(margin=epoch_s):
                break
        self.on_train_end()
