"""``antseg --help`` and every ``antseg COMMAND --help`` start without the heavy libraries: the command line
imports the library where a command uses it (benchmarks/bench_startup.py measures the time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

#: Libraries a help text must not load (torch alone costs about 2 s and 600 MB).
HEAVY = (
    "torch", "torchvision", "monai", "segmentation_models_pytorch", "matplotlib", "cv2", "scipy", "skimage", "av",
    "pydicom", "highdicom", "onnxruntime", "onnx", "numpy", "PIL", "ultralytics", "nnunetv2",
)  # fmt: skip

#: In a fresh interpreter: the help of the root and of every command in the click tree, in turn; prints
#: [command, heavy modules loaded by it] for the first one that loads any, else [null, []].
PROBE = """
import json, sys
import typer
from antseg.cli import app, main
heavy = set(sys.argv[1].split(","))
def loaded():
    return {m.split(".")[0] for m in sys.modules} & heavy
def paths(cmd, prefix):
    yield prefix
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from paths(sub, [*prefix, name])
found, n = ["(import antseg.cli)", sorted(loaded())], 0
if not found[1]:
    for path in paths(typer.main.get_command(app), []):
        try:
            main([*path, "--help"])
        except SystemExit:
            pass
        n += 1
        if loaded():
            found = [" ".join(path) or "(root)", sorted(loaded())]
            break
print(json.dumps([found, n]))
"""


def test_help_of_every_command_imports_no_heavy_library():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY)], capture_output=True, text=True, env=env, check=True
    ).stdout
    (command, modules), n = json.loads(out.strip().splitlines()[-1])
    assert modules == [], f"antseg {command or ''} --help imports {', '.join(modules)}: import it where it is used"
    assert n > 20  # the root, the command groups and every command were asked for their help
