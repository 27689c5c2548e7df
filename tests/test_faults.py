"""Faults caused for real: SIGTERM and Ctrl-C between epochs, kill -9 mid-epoch; then resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import mlflow.keras
import pytest

from zoo import checkpoints, diagnostics, tracking
from zoo.__main__ import main
from zoo.errors import UserError

TINY = ["--set=examples=512", "--set=sequence_length=12", "--set=units=8", "--set=epochs=3", "--set=batch_size=32",
        "--set=dropout=0.2", "--set=flow_samples=3", "--set=grad_norm_every=2", "--set=checkpoint_every=0"]


def history(run_id, key):
    return [(m.step, m.value) for m in sorted(mlflow.MlflowClient(tracking.tracking_uri()).get_metric_history(
        run_id, key), key=lambda m: m.step)]


def test_sigterm_between_epochs_ends_the_run_killed_and_resume_finishes_it_with_the_same_numbers(
        store, monkeypatch, capsys, signum=signal.SIGTERM, code=143):
    assert main(["train", *TINY]) == 0
    reference = tracking.runs("adding").iloc[0]

    def signal_before_the_second_epoch(self, epoch, logs=None):
        if epoch == 1:
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(diagnostics.SpectralRadius, "on_epoch_begin", signal_before_the_second_epoch, raising=False)
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
    assert resumed["status"] == "FINISHED" and resumed["metrics.epochs_run"] == 3
    for key in ("test_mse", "val_loss", "train_loss"):  # dropout included: its random state is restored
        assert resumed[f"metrics.{key}"] == pytest.approx(reference[f"metrics.{key}"], rel=1e-6)
    curve, expected = history(stopped[0], "val_loss"), history(reference["run_id"], "val_loss")
    assert [step for step, _ in curve] == [1, 2, 3]  # each epoch once
    assert [value for _, value in curve] == pytest.approx([value for _, value in expected], rel=1e-6)
    norms = history(stopped[0], "grad_norm")  # step-numbered: continued, each step once
    assert [step for step, _ in norms] == [step for step, _ in history(reference["run_id"], "grad_norm")]
    assert not checkpoints.folder(stopped[0]).exists()  # the model is in the store: the state is dropped
    assert main(["train", "--resume", stopped[0]]) == 2  # finished: nothing to resume
    assert "already FINISHED" in capsys.readouterr().err


MID_EPOCH_TOLERANCE = 0.25  # relative, on test_mse: docs/faults.md


@pytest.mark.faults
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
    # against the same configuration never stopped: the restarted epoch trains its first steps twice
    assert main(["train", *config]) == 0
    unstopped = tracking.runs("adding").query("run_id != @run_id")["metrics.test_mse"].iloc[0]
    print(f"mid-epoch resume: test_mse {run.data.metrics['test_mse']:.5f}, never stopped {unstopped:.5f}")
    assert run.data.metrics["test_mse"] == pytest.approx(unstopped, rel=MID_EPOCH_TOLERANCE)


def test_ctrl_c_is_one_line_and_exit_130(capsys):
    from zoo.errors import command

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job ignores SIGINT

    @command
    def interrupted():
        os.kill(os.getpid(), signal.SIGINT)  # Python's handler raises KeyboardInterrupt here
        time.sleep(5)

    try:
        assert interrupted() == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    assert capsys.readouterr().err.strip().splitlines() == ["interrupted: Ctrl-C"]


def _can_mount():
    try:
        return subprocess.run(["unshare", "-m", "mount", "-t", "tmpfs", "tmpfs", "/mnt"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_mounts = pytest.mark.skipif(not _can_mount(), reason="needs unshare -m and mount (root with CAP_SYS_ADMIN)")


def train_with_mounts(mounts, store, *options):
    """`python -m zoo train` in a private mount namespace where `mounts` (shell) ran first."""
    return subprocess.run(["unshare", "-m", "sh", "-c", f'{mounts} && exec "$@"', "sh", sys.executable, "-m", "zoo",
                           "train", *options], cwd=store, capture_output=True, text=True, timeout=300)


SMALL = ["--set=examples=256", "--set=sequence_length=10", "--set=units=8", "--set=epochs=2", "--set=flow_samples=2"]


@pytest.mark.faults
@needs_mounts
def test_a_read_only_store_is_one_line_and_leaves_nothing(store):
    tracking.experiment_id("adding")  # the store exists; then it is mounted read-only
    done = train_with_mounts("mount --bind mlruns mlruns && mount -o remount,ro,bind mlruns", store, *SMALL)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: Cannot start an MLflow run in sqlite:") and "writable" in line
    assert tracking.runs("adding").empty


@pytest.fixture
def corpus_cache(store, monkeypatch):
    """An empty ZOO_CACHE_DIR in the store's folder."""
    cache = Path(store, "cache")
    cache.mkdir()
    monkeypatch.setenv("ZOO_CACHE_DIR", str(cache))
    return cache


def lm_options(store):
    """A word language model on a user's copy of PTB's validation text (74k tokens)."""
    from zoo.data.files import data_dir

    corpus = Path(store, "corpus.txt")
    corpus.write_bytes((data_dir() / "ptb" / "ptb.valid.txt").read_bytes())
    return ["--set=task=lm", "--set=dataset=user", f"--set=data_path={corpus}", "--set=limit=2", "--set=epochs=1",
            "--set=units=8", "--set=sequence_length=10", "--set=batch_size=4", "--set=flow_samples=2"]


@pytest.mark.faults
@needs_mounts
def test_a_read_only_corpus_cache_prepares_in_a_temporary_folder_and_trains(store, corpus_cache):
    cache = corpus_cache
    done = train_with_mounts(f"mount --bind {cache} {cache} && mount -o remount,ro,bind {cache}", store,
                             *lm_options(store))
    assert done.returncode == 0, done.stderr
    assert f"corpus cache {cache}/corpus cannot be written (Read-only file system); the ids go to a" in done.stdout
    assert list(cache.iterdir()) == [] and tracking.runs("lm")["status"].tolist() == ["FINISHED"]


@pytest.mark.faults
@needs_mounts
def test_a_full_corpus_cache_is_one_line_and_starts_no_run(store, corpus_cache):
    cache = corpus_cache
    done = train_with_mounts(f"mount -t tmpfs -o size=64k tmpfs {cache}", store, *lm_options(store),
                             "--set=limit=0")  # the whole text: its ids (about 150 KB) cannot fit in 64 KB
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.replace("\r", "\n").splitlines() if line.strip()]
    assert lines[-1] == (f"error: Cannot write the corpus cache in {cache}/corpus (No space left on device); free "
                         "space there or set ZOO_CACHE_DIR to a folder with room.")
    assert all(line.startswith("counting tokens") or line.startswith("token ids") for line in lines[:-1])
    assert tracking.runs("lm").empty


@pytest.mark.faults
@needs_mounts
def test_a_full_artifact_store_keeps_the_trained_state_and_resume_completes_the_run(store, capsys):
    artifacts = Path(store, "mlruns", tracking.experiment_id("adding"))
    artifacts.mkdir(parents=True, exist_ok=True)  # the experiment's artifacts: a 64 KiB disk below
    done = train_with_mounts(f"mount -t tmpfs -o size=64k tmpfs {artifacts}", store, *SMALL)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    run_id = tracking.runs("adding")["run_id"].iloc[0]
    assert "No space left on device" in line and line.endswith(f"python -m zoo train --resume {run_id}.")
    assert checkpoints.exists(run_id)  # the trained weights are not lost

    assert main(["train", "--resume", run_id]) == 0  # space again (outside that mount namespace)
    run = tracking.get_run(run_id)
    assert run.info.status == "FINISHED" and [step for step, _ in history(run_id, "val_loss")] == [1, 2]
    assert mlflow.keras.load_model(f"runs:/{run_id}/model").count_params() > 0  # the model is in the store


@pytest.mark.faults
def test_a_server_that_does_not_serve_artifacts_keeps_checkpoints_local_and_says_so_once(store, tmp_path, monkeypatch,
                                                                                         capsys):
    """A tracking server started without --serve-artifacts gives clients a path on its own disk:
    checkpoints written there would reach no other node. A run that shares its checkpoints
    (ZOO_SHARE_CHECKPOINTS=1, as Ray workers do) keeps them here and says so in one line, once."""
    from conftest import MlflowServer
    from zoo import server

    unserved = MlflowServer(tmp_path / "unserved")
    unserved.folder.mkdir()
    unserved.process = None
    try:
        unserved.process = server.launch_mlflow(f"sqlite:///{unserved.folder}/server.db", unserved.folder / "art",
                                                "127.0.0.1", unserved.port, unserved.folder / "mlflow.log", 90,
                                                serve_artifacts=False)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", unserved.uri)
        monkeypatch.setenv("ZOO_SHARE_CHECKPOINTS", "1")
        assert main(["train", "--set", "examples=200", "--set", "sequence_length=10", "--set", "units=8",
                     "--set", "epochs=3"]) == 0
        printed = capsys.readouterr().out
        assert printed.count("does not serve artifacts") == 1, printed[-2000:]
        assert not list((unserved.folder / "art").rglob("latest.json"))  # no checkpoint went to the server's disk
        found = tracking.runs("adding")
        assert list(found["status"]) == ["FINISHED"]
    finally:
        unserved.stop()


@pytest.mark.faults
def test_a_tracking_server_that_goes_away_is_one_line_and_resume_completes_the_run(store, mlflow_server, monkeypatch):
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_server.uri}
    options = ["--set=examples=4000", "--set=sequence_length=20", "--set=units=16", "--set=epochs=4",
               "--set=batch_size=32", "--set=flow_samples=2"]
    training = subprocess.Popen([sys.executable, "-m", "zoo", "train", *options], cwd=store, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:  # until the first epoch is in the store
            found = tracking.runs("adding")
            if not found.empty and history(found["run_id"].iloc[0], "val_loss"):
                break
            assert training.poll() is None, training.stderr.read()
            time.sleep(0.5)
        run_id = found["run_id"].iloc[0]
        mlflow_server.stop()
        stopped = time.monotonic()
        _, errors = training.communicate(timeout=180)
        waited = time.monotonic() - stopped
    finally:
        training.kill()
    assert training.returncode == 2 and waited < 90  # bounded waits, not MLflow's 4 minutes a call
    [line] = errors.strip().splitlines()
    assert line.startswith(f"error: MLflow run {run_id} could not be written to {mlflow_server.uri}")
    assert line.endswith(f"python -m zoo train --resume {run_id}.")

    mlflow_server.start()  # the server is back, with the same database
    assert tracking.get_run(run_id).info.status == "RUNNING"  # the server never heard the end
    assert main(["train", "--resume", run_id]) == 0
    run = tracking.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["epochs_run"] == 4
    assert [step for step, _ in history(run_id, "val_loss")] == [1, 2, 3, 4]  # every epoch, once


@pytest.mark.faults
def test_four_commands_at_once_on_a_fresh_store_all_succeed(store):
    options = ["--set=examples=128", "--set=sequence_length=8", "--set=units=4", "--set=epochs=1", "--set=flow_samples=1"]
    started = [subprocess.Popen([sys.executable, "-m", "zoo", "train", *options, f"--set=seed={seed}"], cwd=store,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for seed in range(4)]
    errors = [process.communicate(timeout=300)[1] for process in started]
    assert [process.returncode for process in started] == [0, 0, 0, 0], errors
    runs = tracking.runs("adding")
    assert sorted(runs["params.seed"]) == ["0", "1", "2", "3"] and runs["status"].eq("FINISHED").all()


def test_damaged_models_and_unknown_names_are_one_line_and_exit_2(store, capsys):
    run = Path(store, "exports", "sentiment", "run")
    (run / "saved_model").mkdir(parents=True)
    (run / "config.json").write_text('{"task": "sentiment"}')
    (run / "model.keras").write_bytes(b"not a zip file")
    (run / "saved_model" / "saved_model.pb").write_bytes(b"\x08\x01junk")
    for model, expected in ((run / "model.keras", "cannot be read as a model"),
                            (run / "saved_model", "cannot be read as a model (OSError"),
                            ("models:/no-such-model/1", "Registered Model with name=no-such-model not found")):
        capsys.readouterr()
        assert main(["predict", "--model", str(model), "a fine film"]) == 2
        [line] = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("error: ") and expected in line


def test_a_sweep_checks_its_data_first_and_a_child_that_fails_does_not_stop_the_others(store, capsys):
    missing = ["sweep", "--set=task=lm", "--set=dataset=user", f"--set=data_path={store}/nowhere.txt",
               "--grid=units=4,8"]
    assert main(missing) == 2
    assert "Missing data file" in capsys.readouterr().err
    assert tracking.runs("lm").empty  # no parent left behind

    Path(store, "good.txt").write_text("the cat sat on the mat . " * 400)
    Path(store, "empty.txt").write_text("")
    assert main(["sweep", "--set=task=lm", "--set=dataset=user", "--set=units=4", "--set=embedding_size=4",
                 "--set=epochs=1", "--set=sequence_length=8", "--set=batch_size=4", "--set=flow_samples=1",
                 f"--grid=data_path={store}/empty.txt,{store}/good.txt"]) == 1
    out = capsys.readouterr().out
    assert "empty.txt holds no examples" in out  # the first child's one line ...
    runs = tracking.runs("lm")
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert children["status"].tolist() == ["FINISHED"]  # ... and the second child still ran


def test_label_values_are_sorted_into_classes_as_numbers_or_as_words():
    from zoo.tasks.sentiment import label_vocabulary

    def classes(*labels):
        return list(label_vocabulary({"train": [("x", y) for y in labels], "val": [], "test": []}).vocabulary)

    assert classes("1", "-1") == ["-1", "1"] and classes("10", "2", "0") == ["0", "2", "10"]
    assert classes("pos", "neg", "neutral") == ["neg", "neutral", "pos"] and classes(1, 0) == ["0", "1"]
    with pytest.raises(UserError, match=r"one label value \(pos\); a classifier needs at least two"):
        classes("pos", "pos")


def test_three_labels_train_with_per_class_f1_and_the_model_answers_with_them(store):
    """pos/neg/neutral: a three-class model with per-class and macro F1 (no AUC); the labels are
    saved with the run and the Keras model's predict answers with them."""
    values, expected = ("neg", "pos", "neutral"), ["neg", "neutral", "pos"]
    from zoo.config import Config
    from zoo.export import exporting
    from zoo.train import run

    rows = ["text,label"] + [f"{word} {word} film,{label}" for i in range(90)
                             for word, label in [(f"word{i % len(values)}", values[i % len(values)])]]
    Path(store, "reviews.csv").write_text("\n".join(rows) + "\n")
    config = Config(task="sentiment", dataset="user", data_path=str(Path(store, "reviews.csv")), units=8,
                    embedding_size=8, epochs=1, batch_size=16, sequence_length=4, flow_samples=1)
    result = run(config)
    assert result.status == "FINISHED"
    recorded = tracking.get_run(result.run_id)
    assert mlflow.artifacts.load_dict(f"runs:/{result.run_id}/vocabulary.json")["labels"] == expected
    assert ("test_auc" in recorded.data.metrics) == (len(values) == 2)
    assert ("test_macro_f1" in recorded.data.metrics) == (len(values) > 2)
    logged, tokenizers, net = tracking.load_run(result.run_id)
    assert net.output_shape[-1] == len(values) and tokenizers["labels"].vocabulary == tuple(expected)
    [answer] = exporting("sentiment").predict(net, logged, tokenizers, ["word1 word1 film"], 5)  # model.keras's
    assert answer["label"] in expected and 0 <= answer["probability"] <= 1


def test_labels_of_test_data_that_training_never_saw_are_one_line(store, capsys):
    Path(store, "train.csv").write_text("text,label\n" + "good,pos\nbad,neg\n" * 5)
    Path(store, "valid.csv").write_text("text,label\ngood,pos\n")
    Path(store, "test.csv").write_text("text,label\nso so,neutral\n")
    assert main(["train", "--set=task=sentiment", "--set=dataset=user", f"--set=data_path={store}"]) == 2
    assert "Label neutral of the test split never occurs in training (training labels: neg, pos)" in \
        capsys.readouterr().err
    assert tracking.runs("sentiment").empty


def test_a_sweep_continues_stopped_runs_that_have_a_checkpoint(store):
    """KILLED runs, and RUNNING ones whose process is gone, resume when they have a checkpoint;
    a RUNNING run whose process lives, a finished one, and one without a checkpoint do not."""
    import pandas as pd
    import socket

    from zoo.train import resumable

    dead = subprocess.Popen(["true"])
    dead.wait()
    host, alive = socket.gethostname(), str(os.getpid())
    frame = pd.DataFrame({"run_id": ["killed", "stale", "living", "finished", "no-checkpoint", "elsewhere"],
                          "status": ["KILLED", "RUNNING", "RUNNING", "FINISHED", "KILLED", "RUNNING"],
                          "tags.host": [host, host, host, host, host, "another-host"],
                          "tags.pid": [alive, str(dead.pid), alive, alive, alive, str(dead.pid)]})
    for run_id in ("killed", "stale", "living", "finished", "elsewhere"):
        checkpoints.folder(run_id).mkdir(parents=True)
        (checkpoints.folder(run_id) / "training_metadata.json").write_text('{"epoch": 1, "batch": 0}')
    assert resumable(frame)["run_id"].tolist() == ["killed", "stale"]
    assert resumable(frame.drop(columns=["tags.host", "tags.pid"]))["run_id"].tolist() == ["killed"]


@pytest.mark.faults
def test_a_server_folder_with_spaces_and_shell_characters_starts_postgres_and_runs_nothing(monkeypatch):
    """zoo.server hands PostgreSQL no shell text of its own: a folder named with spaces, a quote and
    brackets starts the database (the socket in its folder, from a settings file); one with `$(...)`
    (which pg_ctl's /bin/sh would run) is refused in one line and nothing runs; as root, only the
    database folder and its log change owner (the artifacts beside them do not)."""
    import shutil
    import tempfile

    from conftest import free_port
    from zoo import server

    if not (shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))):
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="zoo-server-"))
    root.chmod(0o777)  # writable by user postgres too: an injected command could leave its file here
    monkeypatch.chdir(root)
    folder = root / "team's server (shared)"
    (folder / "artifacts").mkdir(parents=True)
    folder.chmod(0o755)
    owner = (folder / "artifacts").stat().st_uid
    try:
        uri = server.start_database(folder, free_port())  # it creates database mlflow through its socket
        assert uri.startswith("postgresql://zoo@/mlflow?host=") and "%27s%20server%20%28shared%29/postgres&port=" in uri
        settings = (folder / "postgres" / server.SETTINGS).read_text()  # a configuration string: ' doubled
        assert f"unix_socket_directories = '\"{root}/team''s server (shared)/postgres\"'" in settings
        assert list((folder / "postgres").glob(".s.PGSQL.*")), "the socket is in the database folder"
        assert (folder / "artifacts").stat().st_uid == owner and folder.stat().st_uid == owner
        from sqlalchemy.engine import make_url

        assert make_url(uri).query["host"] == str(folder / "postgres")  # what MLflow connects with, decoded
        with pytest.raises(UserError, match=r"Invalid server folder .*libpq reads a comma .* without a comma"):
            server.start_database(root / "a,b", free_port())
        assert not (root / "a,b").exists()
        injected = root / "x $(touch INJECTED) `touch INJECTED`"
        with pytest.raises(UserError, match=r"Invalid server folder .* would be read as shell; pass a --folder"):
            server.start_database(injected, free_port())
        assert not list(root.rglob("INJECTED")) and not injected.exists()
    finally:
        server.stop_database(folder)
        shutil.rmtree(root, ignore_errors=True)
