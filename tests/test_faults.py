"""Faults caused for real: SIGTERM and Ctrl-C between epochs, kill -9 mid-epoch; then resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest

from zoo import checkpoints, diagnostics, tracking
from zoo.__main__ import main

TINY = ["--set=examples=512", "--set=sequence_length=12", "--set=units=8", "--set=epochs=4", "--set=batch_size=32",
        "--set=dropout=0.2", "--set=flow_samples=3", "--set=grad_norm_every=2", "--set=checkpoint_every=0"]


def history(run_id, key):
    return [(m.step, m.value) for m in sorted(mlflow.MlflowClient(tracking.tracking_uri()).get_metric_history(
        run_id, key), key=lambda m: m.step)]


def test_sigterm_between_epochs_ends_the_run_killed_and_resume_finishes_it_with_the_same_numbers(
        store, monkeypatch, capsys, signum=signal.SIGTERM, code=143):
    assert main(["train", *TINY]) == 0
    reference = tracking.runs("adding").iloc[0]

    def signal_before_the_third_epoch(self, epoch, logs=None):
        if epoch == 2:
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(diagnostics.SpectralRadius, "on_epoch_begin", signal_before_the_third_epoch, raising=False)
    capsys.readouterr()
    assert main(["train", *TINY]) == code
    stopped = tracking.runs("adding").query("status == 'KILLED'")["run_id"].tolist()
    assert len(stopped) == 1
    [line] = capsys.readouterr().err.strip().splitlines()  # one line, no traceback
    assert line.endswith(f"continue it with: python -m zoo train --resume {stopped[0]}")
    assert checkpoints.exists(stopped[0])

    monkeypatch.delattr(diagnostics.SpectralRadius, "on_epoch_begin")
    assert main(["train", "--resume", stopped[0]]) == 0
    resumed = tracking.runs("adding").set_index("run_id").loc[stopped[0]]
    assert resumed["status"] == "FINISHED" and resumed["metrics.epochs_run"] == 4
    for key in ("test_mse", "val_loss", "train_loss"):  # dropout included: its random state is restored
        assert resumed[f"metrics.{key}"] == pytest.approx(reference[f"metrics.{key}"], rel=1e-6)
    curve, expected = history(stopped[0], "val_loss"), history(reference["run_id"], "val_loss")
    assert [step for step, _ in curve] == [1, 2, 3, 4]  # each epoch once
    assert [value for _, value in curve] == pytest.approx([value for _, value in expected], rel=1e-6)
    norms = history(stopped[0], "grad_norm")  # step-numbered: continued, each step once
    assert [step for step, _ in norms] == [step for step, _ in history(reference["run_id"], "grad_norm")]
    assert not checkpoints.folder(stopped[0]).exists()  # the model is in the store: the state is dropped
    assert main(["train", "--resume", stopped[0]]) == 2  # finished: nothing to resume
    assert "already FINISHED" in capsys.readouterr().err


def test_kill_9_mid_epoch_leaves_a_stale_run_that_resumes_into_the_same_run(store, capsys):
    config = ["--set=examples=3000", "--set=sequence_length=30", "--set=units=16", "--set=epochs=3",
              "--set=batch_size=32", "--set=checkpoint_every=10", "--set=flow_samples=2"]
    process = subprocess.Popen([sys.executable, "-m", "zoo", "train", *config], cwd=store,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:  # until a save inside the second epoch
            saved = list(Path(store, "mlruns", "checkpoints").glob("*/training_metadata.json"))
            if saved and json.loads(saved[0].read_text() or "{}").get("epoch") == 1 and \
                    json.loads(saved[0].read_text()).get("batch", 0) > 0:
                break
            assert process.poll() is None, "training ended before it could be killed"
            time.sleep(0.2)
        else:
            pytest.fail("no mid-epoch checkpoint within 240 s")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    run_id = saved[0].parent.name
    assert tracking.get_run(run_id).info.status == "RUNNING"  # what kill -9 leaves behind

    capsys.readouterr()
    assert main(["runs", "--stale"]) == 0
    assert run_id in capsys.readouterr().out
    assert main(["runs", "--stale", "--mark-killed"]) == 0
    assert tracking.get_run(run_id).info.status == "KILLED"

    assert main(["train", "--resume", run_id]) == 0
    run = tracking.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["epochs_run"] == 3
    steps = [step for step, _ in history(run_id, "val_loss")]
    assert steps == [1, 2, 3]  # the killed epoch is logged once, by the resumed run
    norms = [step for step, _ in history(run_id, "grad_norm")]
    assert len(norms) == len(set(norms)) and norms == sorted(norms)
    assert run.data.metrics["test_mse"] < 0.17  # trained: below the 0.167 of always answering the mean


def test_ctrl_c_is_one_line_and_exit_130(capsys):
    from zoo.errors import command

    @command
    def interrupted():
        os.kill(os.getpid(), signal.SIGINT)  # Python's handler raises KeyboardInterrupt here
        time.sleep(5)

    assert interrupted() == 130
    assert capsys.readouterr().err.strip().splitlines() == ["interrupted: Ctrl-C"]
