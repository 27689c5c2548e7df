"""Importing the zoo as a library changes nothing process-wide; its programs do, on purpose
(zoo.program); `pip install .` declares the dependencies and the `zoo` command."""

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, os, sys
import matplotlib
before = dict(os.environ), matplotlib.rcParams._get_backend_or_none()
import zoo, zoo.train, zoo.report, zoo.plots, zoo.tracking, zoo.transfer
figure = zoo.plots.learning_curves({"loss": [2.0, 1.0], "val_loss": [2.1, 1.2]}, "loss")
after = dict(os.environ), matplotlib.rcParams._get_backend_or_none()
import matplotlib.pyplot as plt
changed = sorted(k for k in set(before[0]) | set(after[0]) if before[0].get(k) != after[0].get(k))
import zoo.program
program = sorted(k for k in zoo.program.SETTINGS if os.environ.get(k) == zoo.program.SETTINGS[k])
print(json.dumps({"changed": changed, "backend": [before[1], after[1]], "open_figures": len(plt.get_fignums()),
                  "program": program}))
"""


def test_importing_the_zoo_changes_no_process_wide_state_and_a_program_sets_its_own():
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MLFLOW_HTTP_", "MLFLOW_ENABLE_ARTIFACTS", "TF_CPP_MIN_LOG_LEVEL"))}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    found = json.loads(done.stdout.strip().splitlines()[-1])
    # TensorFlow's own import may set variables of its own; none of the zoo's
    import zoo.program

    assert not set(found["changed"]) & set(zoo.program.SETTINGS), found["changed"]
    assert found["backend"] == [None, None]  # no backend chosen: a notebook keeps its inline one
    assert found["open_figures"] == 0  # the figures are not pyplot's: nothing is kept open or shown
    assert found["program"] == sorted(zoo.program.SETTINGS)  # a program (import zoo.program) sets them all


def test_the_package_declares_its_dependencies_and_the_zoo_command():
    declared = importlib.metadata.requires("rnn-zoo")
    pinned = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert len(declared) == len([line for line in pinned if line]) and "mlflow==3.17.2" in declared
    command = Path(sys.executable).parent / "zoo"
    assert command.exists(), "pip install . (make install) puts a zoo command beside python"
    done = subprocess.run([str(command), "train", "--set", "units=lots"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2 and done.stderr == "error: Invalid value 'lots' for units; expected an integer.\n" and done.stdout == ""


def test_every_configuration_field_is_documented_and_its_reference_page_is_current():
    import dataclasses

    from zoo.config import Config, field_meanings, reference

    meanings = field_meanings()
    undocumented = [field.name for field in dataclasses.fields(Config) if not meanings.get(field.name)]
    assert not undocumented, f"Config fields without a comment in zoo/config.py: {undocumented}"
    assert meanings["seed"].startswith("weights' initialisation") and "identity (IRNN)" in meanings["recurrent_initializer"]
    assert (ROOT / "docs" / "configuration.md").read_text() == reference(), "out of date: run python -m zoo docs"


def test_the_cluster_module_does_not_import_training():
    """zoo.cluster gets zoo.train.run as an argument; the two modules do not import each other."""
    code = "import sys, zoo.cluster; print('zoo.train' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"
