"""Resumable training: what a run needs to continue where it stopped.

Per run, the folder `<run id>/` in the node's checkpoint folder (ZOO_CHECKPOINT_DIR, default
mlruns/checkpoints):
- Keras's BackupAndRestore files: the weights with the optimizer's state (its step counter and
  moments) and the epoch, every `checkpoint_every` training steps and at each epoch end;
- progress.json, at each epoch end: the epochs' logs so far (the learning curves), the training
  step (where the step-numbered metrics go on), the layers' random seed states (dropout), the
  gradient-flow snapshots, early stopping's state (its best weights in best.weights.npz).

Resuming restores all of it and starts the shuffled training data at the same epoch: tf.data
reshuffles for each iterator, so the epochs already done are skipped by drawing as many
iterators. A run stopped at an epoch end resumes to the same numbers as one never stopped; one
stopped mid-epoch restarts that epoch from the weights of its last save (Keras's semantics: the
steps of that epoch done before the save are trained twice). The folder stays until the run's
model is in the store, so a failed upload loses nothing.

In a Ray worker (zoo.cluster sets ZOO_SHARE_CHECKPOINTS=1 for them; anyone may) with a tracking
server (MLFLOW_TRACKING_URI http(s)://), each epoch end's folder is also logged among the run's
`checkpoint` artifacts (an archive, then the pointer latest.json), so that the run continues on a
machine that does not share this disk (a trial retried on another node, `train --resume`
elsewhere): `fetch` downloads it where the local folder is missing or older. They are deleted
with the local folder.
"""

import functools
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from zoo import tracking
from zoo.errors import UserError


ARTIFACTS = "checkpoint"  # the run's artifact folder of its checkpoint, with a tracking server


def folder(run_id):
    """The run's checkpoint folder on this machine: ZOO_CHECKPOINT_DIR/<run id>, default
    mlruns/checkpoints/<run id> (also when runs are tracked on a server)."""
    base = os.environ.get("ZOO_CHECKPOINT_DIR") or tracking.STORE_DIR / "checkpoints"
    return (Path(base) / run_id).resolve()


def exists(run_id):
    """Whether the run has a checkpoint on this machine."""
    return (folder(run_id) / "training_metadata.json").exists()


def _epoch(path):
    """The epoch of the checkpoint in `path` (its progress.json), 0 if none."""
    try:
        return json.loads((path / "progress.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def shared():
    """Whether the store can hold checkpoints as artifacts: a tracking server (serving artifacts)."""
    return tracking.tracking_uri().startswith(("http://", "https://"))


def _client():
    return tracking.MlflowClient(tracking.tracking_uri())


_WARNED = set()  # runs told that their server does not serve artifacts


@functools.lru_cache(maxsize=1024)
def _artifacts_served(uri, run_id):
    """Whether run `run_id` of the tracking server at `uri` keeps its artifacts where every node
    reaches them (served by the server, mlflow-artifacts:, or a bucket), not at a path on the
    server's disk (a server started with --no-serve-artifacts, or a local --default-artifact-root),
    which a client writes on its own."""
    location = tracking.MlflowClient(uri).get_run(run_id).info.artifact_uri
    return not location.startswith(("file:", "/"))


def upload(run_id, before=None):
    """Logs the run's checkpoint folder as one archive among its `checkpoint` artifacts, then
    `checkpoint/latest.json` naming it (written last: a node that dies during an upload leaves
    the previous pointer and archive whole), then deletes the archive before (a tracking server
    and ZOO_SHARE_CHECKPOINTS=1). A store that fails is one line, and the local folder stays.
    before: the archive this process uploaded last (None: the server's pointer names it).
    Returns the name of the archive on the server now (None: none known)."""
    if not (shared() and os.environ.get("ZOO_SHARE_CHECKPOINTS") == "1"):
        return before
    path, client = folder(run_id), _client()
    epoch = _epoch(path)
    try:
        if not _artifacts_served(tracking.tracking_uri(), run_id):
            if run_id not in _WARNED:  # once a run
                _WARNED.add(run_id)
                print(f"warning: the tracking server {tracking.tracking_uri()} does not serve artifacts (it gives "
                      f"clients a path on its own disk): the checkpoint of run {run_id} stays in {path}, and a retry "
                      "on another node starts over; start the server so that it serves artifacts (make server does; not "
                      "--no-serve-artifacts)",
                      flush=True)
            return before
        before = before or (_latest(run_id) or {}).get("archive")
        with tempfile.TemporaryDirectory() as scratch:
            archive = shutil.make_archive(str(Path(scratch) / f"epoch-{epoch}"), "tar", path)
            client.log_artifact(run_id, archive, ARTIFACTS)
            pointer = Path(scratch) / "latest.json"
            pointer.write_text(json.dumps({"epoch": epoch, "archive": Path(archive).name}))
            client.log_artifact(run_id, str(pointer), ARTIFACTS)
        if before and before != Path(archive).name:
            _delete(run_id, f"{ARTIFACTS}/{before}")
        return Path(archive).name
    except tracking.STORE_ERRORS as error:
        print(f"warning: the checkpoint of run {run_id} was not copied to the tracking server "
              f"({tracking.first_line(error)}); it is kept in {path}", flush=True)
        return before


def _latest(run_id):
    """The run's checkpoint pointer on the tracking server ({"epoch", "archive"}), or None."""
    import mlflow

    try:
        return json.loads(mlflow.artifacts.load_text(f"runs:/{run_id}/{ARTIFACTS}/latest.json"))
    except (*tracking.STORE_ERRORS, ValueError):  # none logged (it died before its first epoch end)
        return None


def fetch(run_id):
    """Whether the run has a checkpoint here, after downloading the tracking server's where this
    machine has none or an older one (a trial back on a node it left)."""
    if not shared():
        return exists(run_id)
    latest = _latest(run_id)
    target = folder(run_id)
    if latest is None or (exists(run_id) and _epoch(target) >= latest["epoch"]):
        return exists(run_id)
    import mlflow

    target.parent.mkdir(parents=True, exist_ok=True)  # unpacked beside it, then renamed: whole or not at all
    try:
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            archive = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=f"{ARTIFACTS}/{latest['archive']}", dst_path=scratch,
                tracking_uri=tracking.tracking_uri())
            unpacked = Path(scratch) / "unpacked"
            shutil.unpack_archive(archive, unpacked, "tar")
            if not (unpacked / "training_metadata.json").exists():
                return exists(run_id)
            shutil.rmtree(target, ignore_errors=True)
            unpacked.rename(target)
    except (*tracking.STORE_ERRORS, shutil.ReadError):  # the server is away, or the archive went meanwhile
        return exists(run_id)
    print(f"checkpoint of run {run_id} (epoch {latest['epoch']}) downloaded from the tracking server to {target}",
          flush=True)
    return exists(run_id)


def available(run_id):
    """Whether the run has a checkpoint here or on the tracking server (nothing downloaded)."""
    return exists(run_id) or (shared() and _latest(run_id) is not None)


def _delete(run_id, path):
    """Deletes the run's artifact `path` where the store can (a server serving artifacts)."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    try:
        get_artifact_repository(_client().get_run(run_id).info.artifact_uri).delete_artifacts(path)
    except (*tracking.STORE_ERRORS, NotImplementedError):  # none there, or a store that cannot delete
        pass


def remove(run_id):
    """Deletes the run's checkpoint: the local folder and, with a tracking server, its artifacts."""
    shutil.rmtree(folder(run_id), ignore_errors=True)
    if shared():
        _delete(run_id, ARTIFACTS)


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping that can start from a saved state (wait, best, best epoch, best weights)."""

    def __init__(self, restored=None, **kwargs):
        super().__init__(**kwargs)
        self.restored = restored

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.restored:
            self.wait, self.best, self.best_epoch, self.best_weights = self.restored

    def state(self):
        return {"wait": self.wait, "best": float(self.best), "best_epoch": self.best_epoch}


class Checkpoint(keras.callbacks.BackupAndRestore):
    """BackupAndRestore at every epoch end and every `every` steps (0: epoch ends only), plus
    progress.json. `restore()` continues a resumed run from the saved state before training."""

    def __init__(self, run_id, every, counters, flow, early_stopping=None):
        path = folder(run_id)
        # double_checkpoint: a kill during a save (the weights file is written in place) leaves the
        # previous save, which Keras then restores
        super().__init__(str(path), save_freq=every or "epoch", double_checkpoint=True, delete_checkpoint=False)
        self.path, self.counters, self.flow, self.early_stopping = path, counters, flow, early_stopping
        self.history = {}
        self.seconds_before, self.started = 0.0, None  # training time before a resume, and since
        self.random = []  # saved random seed states, in the order of random_states()
        self.uploaded = None  # the archive of the last upload() (the tracking server's copy)

    def random_states(self):
        """The model's variables that are not weights: its layers' random seed states (dropout),
        which Keras's weight files leave out."""
        weights = {id(weight) for weight in self.model.weights}
        return [variable for variable in self.model.variables if id(variable) not in weights]

    def _load_model(self):
        """Keras's restore, falling back to the previous save (double_checkpoint) where a kill cut
        the last one short. Keras's own fallback catches OSError only (h5py raises RuntimeError
        too) and copies the previous file into the broken one: HDF5 keeps a file that failed to
        open by its inode and reads the same broken state again. Here it comes as a new file."""
        try:
            super()._load_model()
        except (OSError, RuntimeError) as error:
            previous = [(Path(self._prev_weights_path), Path(self._weights_path)),
                        (Path(self._prev_training_metadata_path), Path(self._training_metadata_path))]
            if not previous[0][0].exists():
                raise UserError(f"The checkpoint in {self.path} is corrupt ({error}) and has no previous save; "
                                "train the run again with python -m zoo train.") from None
            for source, target in previous:
                if source.exists():
                    shutil.copyfile(source, target.with_name(target.name + ".restoring"))
                    os.replace(target.with_name(target.name + ".restoring"), target)
            print(f"the last save in {self.path} is corrupt ({tracking.first_line(error)}); "
                  "continuing from the save before it", flush=True)
            super()._load_model()

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)  # loads the weights and the optimizer's state, sets the epoch
        for variable, state in zip(self.random_states(), self.random):  # in order: names differ by process
            variable.assign(np.array(state, dtype=variable.dtype))
        self.started = time.perf_counter()

    def seconds(self):
        """Training time so far, the time before a resume included."""
        return self.seconds_before + (time.perf_counter() - self.started if self.started else 0.0)

    def progress(self):
        """The saved progress ({} if none): epoch, step, history, flow, early_stopping."""
        saved = self.path / "progress.json"
        if not saved.exists():
            return {}
        progress = json.loads(saved.read_text())
        self.history, self.seconds_before = progress["history"], progress["seconds"]
        self.random = progress.get("random", [])
        best = self.path / "best.weights.npz"
        if progress.get("early_stopping") and best.exists():
            with np.load(best) as arrays:
                weights = [arrays[f"w{i}"] for i in range(len(arrays.files))]
            state = progress["early_stopping"]
            progress["early_stopping"] = (state["wait"], state["best"], state["best_epoch"], weights)
        progress["flow"] = [(epochs, {layer: np.array(norms) for layer, norms in layers.items()})
                            for epochs, layers in progress["flow"]]
        return progress

    def restore(self, logger, train):
        """Before a resumed run's fit: continues the counters, the gradient flow, early stopping and
        `logger` (zoo.tracking.MetricsLogger) where the saved state left them, logs the epochs the
        store missed, and draws the `train` iterators of the epochs done (each one reshuffles).
        Returns progress() ({} if nothing was saved)."""
        progress = self.progress()
        if progress:
            self.counters.initial_step = logger.step = progress["step"]
            self.flow.restored = progress["flow"]
            if self.early_stopping is not None:
                self.early_stopping.restored = progress.get("early_stopping")
            for _ in range(progress["epoch"]):
                iter(train)
            logger.catch_up(self.history)  # epochs saved here but not yet in the store
            print(f"resuming MLflow run {self.path.name} after epoch {progress['epoch']} (step {progress['step']})")
        return progress

    def save(self):
        """Saves the weights now (on an interrupt; resumption restarts the epoch from them)."""
        self._save_model()

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        super().on_epoch_end(epoch, logs)
        if self.save_freq != "epoch":
            self._save_model()
        progress = {"epoch": epoch + 1, "step": self.counters.step, "seconds": self.seconds(), "history": self.history,
                    "stopped": bool(self.model.stop_training),  # by early stopping or the NaN guard
                    "random": [np.asarray(v.numpy()).tolist() for v in self.random_states()],
                    "flow": [(epochs, {layer: np.asarray(norms).tolist() for layer, norms in layers.items()})
                             for epochs, layers in self.flow.snapshots]}
        if self.early_stopping is not None:
            progress["early_stopping"] = self.early_stopping.state()
            if self.early_stopping.best_weights is not None:
                np.savez(self.path / "best.weights.npz",
                         **{f"w{i}": w for i, w in enumerate(self.early_stopping.best_weights)})
        partial = self.path / "progress.json.partial"
        partial.write_text(json.dumps(progress))
        partial.replace(self.path / "progress.json")  # whole or not at all
        self.uploaded = upload(self.path.name, self.uploaded)
