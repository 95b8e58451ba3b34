"""Bad input to ``antseg benchmark``, ``export``, ``data split|phantom`` and every command's ``--device``, table by
table: exit 2, one line naming the file or flag, no traceback, nothing written, before any work starts (see
:func:`tests.cli.refusal.assert_refused`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from tests.cli.refusal import Bad, assert_refused, read_only_folder, run_main
from tests.test_config import billion_laughs


@pytest.fixture
def run_cli(capfd):
    return lambda args: run_main(capfd, args)


def needs(package: str):
    return pytest.mark.skipif(importlib.util.find_spec(package) is None, reason=f"{package} not installed")


def _flow_laughs(levels: int = 8) -> str:
    """A billion-laughs YAML value on one line (flow style), for ``--option``."""
    parts = ["&a0 [" + ", ".join(["lol"] * 10) + "]"]
    parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    return "[" + ", ".join(parts) + "]"


#: extra flags after ``benchmark DS --out OUT --models unet-lite --epochs 1 --device cpu`` -> names, also.
BENCHMARK: dict[str, tuple[list[str], str, list[str]]] = {
    "option value of the wrong type": (["--option", "unet-lite.lr=abc"], "--option unet-lite", ["lr must be"]),
    "option out of range": (["--option", "unet-lite.batch_size=0"], "--option unet-lite", ["batch_size"]),
    "unknown option": (["--option", "unet-lite.nope=1"], "--option unet-lite", ["nope"]),
    "option given twice": (
        ["--option", "unet-lite.lr=0.1", "--option", "unet-lite.lr=0.2"],
        "--option unet-lite.lr",
        ["twice"],
    ),  # fmt: skip
    "option for a method not run": (["--option", "nnunet.configuration=2d"], "--option", ["nnunet", "not run"]),
    "weights for a method not run": (["--weights", "medsam=missing.pth"], "--weights", ["medsam", "not run"]),
    "budget -1": (["--budget", "-1"], "--budget", [">= 0"]),
    "epochs 0": (["--epochs", "0"], "--epochs", [">= 1"]),
    "a method twice": (["--models", "unet-lite,unet-lite"], "--models", ["more than once"]),
    "device gpu": (["--device", "gpu"], "--device", []),
    "config options a list": (["--config", "{d}/options_list.yaml"], "options_list.yaml", ["must be a mapping"]),
    "config billion laughs": (["--config", "{d}/laughs.yaml"], "laughs.yaml", ["expands to more than"]),
    "option billion laughs": (
        ["--option", "unet-lite.x=" + _flow_laughs()],
        "--option unet-lite.x",
        ["expands to more than"],
    ),  # fmt: skip
    "spur option out of range": (
        ["--models", "none", "--spurs", "antseg", "--option", "antseg.refine_steps=0"],
        "--option antseg",
        ["refine_steps"],
    ),  # fmt: skip
}
ENGINE_ROWS = [
    pytest.param(["--models", "medsam", "--weights", "medsam=missing.pth"], "missing.pth", ["not found"],
                 marks=needs("segment_anything"), id="weights file missing"),
    pytest.param(["--models", "medsam", "--option", "medsam.lr=-1", "--option", "medsam.boxes=oracle"],
                 "--option medsam.lr", ["positive"], marks=needs("segment_anything"), id="medsam lr -1"),
    pytest.param(["--models", "nnunet", "--option", "nnunet.fold=3"], "nnunet fold", ["'all' or 0"],
                 marks=needs("nnunetv2"), id="nnunet fold 3"),
    pytest.param(["--models", "nnunet", "--option", "nnunet.dataset_id=abc"], "--option nnunet.dataset_id", [],
                 marks=needs("nnunetv2"), id="nnunet dataset_id text"),
    pytest.param(["--models", "none", "--spurs", "yolo11-pose", "--option", "yolo11-pose.conf=2"],
                 "--option yolo11-pose.conf", ["<= 1"], marks=needs("ultralytics"), id="yolo conf 2"),
]  # fmt: skip


@pytest.fixture(scope="module")
def d(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bench-inputs")
    (root / "options_list.yaml").write_text("options: [1, 2]\n")
    (root / "laughs.yaml").write_text(billion_laughs())
    return root


@pytest.mark.parametrize("extra, names, also", [pytest.param(*v, id=k) for k, v in BENCHMARK.items()] + ENGINE_ROWS)
def test_benchmark_fails_fast(split_phantom, d, tmp_path, run_cli, extra, names, also):
    out = tmp_path / "bench"
    args = ["benchmark", split_phantom, "--out", out, "--models", "unet-lite", "--epochs", "1", "--device", "cpu",
            *[a.format(d=d) for a in extra]]  # fmt: skip
    assert_refused(run_cli(args), Bad(args, out, names, also))


def test_benchmark_keeps_out_of_a_folder_of_the_users(split_phantom, tmp_path, run_cli):
    """Item 14: a non-empty folder that is not a benchmark's is refused and left as it was; so is the dataset."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    for out, message in ((mine, "holds no antseg benchmark"), (split_phantom, "is also an input")):
        code, _, err = run_cli(["benchmark", split_phantom, "--out", out, "--models", "unet-lite", "--epochs", "1"])
        assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"] and (mine / "notes.txt").read_text() == "precious"


@pytest.mark.parametrize(
    "cmd",
    [
        ["predict", "{run}", "{img}", "--out", "{out}"],
        ["report", "{img}", "--out", "{out}"],
        ["evaluate", "{run}", "{ds}", "--out", "{out}"],
        ["biometry", "--dataset", "{ds}", "--out", "{out}"],
        ["train", "seg", "{ds}", "--out", "{out}"],
        ["train", "spur", "{ds}", "--out", "{out}"],
        ["benchmark", "{ds}", "--out", "{out}", "--models", "unet-lite"],
    ],
    ids=lambda c: " ".join(c[:2]) if c[0] == "train" else c[0],
)
@pytest.mark.parametrize("device", ["gpu", "gpu9", "cuda:one"])
def test_one_device_parser_for_every_command(split_phantom, tiny_run, tmp_path, run_cli, cmd, device):
    out = tmp_path / "out"
    img = next((split_phantom / "images").glob("*.png"))
    args = [a.format(run=tiny_run, img=img, ds=split_phantom, out=out) for a in cmd] + ["--device", device]
    assert_refused(run_cli(args), Bad(args, out, "--device", [f"got {device!r}"]))


@pytest.mark.parametrize(
    "args, names",
    [
        (["data", "split", "{ds}", "--ratios", "0.8,0.2,0.2"], "--ratios"),
        (["data", "split", "{ds}", "--ratios", "1,1,1"], "--ratios"),
        (["data", "phantom", "asoct", "{out}", "--workers", "-1"], "--workers"),
        (["data", "phantom", "surgical", "{out}", "--video-seconds", "-1"], "video_seconds"),
        (["data", "phantom", "surgical", "{out}", "--video-seconds", "inf"], "video_seconds"),
        (["biometry", "{img}", "--dataset", "{ds}", "--out", "{out}"], "--dataset"),
    ],
    ids=["ratios sum 1.2", "ratios 1,1,1", "phantom workers -1", "video seconds -1", "video seconds inf",
         "images and --dataset"],
)  # fmt: skip
def test_data_and_biometry_values(asoct_copy, tmp_path, run_cli, args, names):
    out = tmp_path / "out"
    img = next((asoct_copy / "images").glob("*.png"))
    before = (asoct_copy / "cases.csv").read_text()
    args = [a.format(ds=asoct_copy, out=out, img=img) for a in args]
    assert_refused(run_cli(args), Bad(args, out, names))
    assert (asoct_copy / "cases.csv").read_text() == before  # a refused split leaves the dataset as it was


@pytest.fixture
def onnx_packages():
    for name in ("onnx", "onnxscript", "onnxruntime"):
        pytest.importorskip(name)


def test_export_onto_a_folder_or_a_read_only_disk(tiny_run, tmp_path, run_cli, onnx_packages):
    """Item 13: ``export onnx --overwrite`` onto a folder keeps the folder; a read-only disk is named."""
    folder = tmp_path / "model.onnx"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    code, _, err = run_cli(["export", "onnx", tiny_run, folder, "--overwrite"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is a folder" in err and "model.onnx" in err, err
    assert (folder / "keep.txt").read_text() == "mine"
    ro = read_only_folder(tmp_path)
    out = ro / "m.onnx"
    args = ["export", "onnx", tiny_run, out]
    assert_refused(run_cli(args), Bad(args, out, "m.onnx", ["cannot be written"]))
    missing = ro / "new" / "m.onnx"
    args = ["export", "onnx", tiny_run, missing]
    assert_refused(run_cli(args), Bad(args, missing, "new", ["cannot be created"]))
