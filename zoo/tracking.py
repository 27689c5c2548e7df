"""The only module that talks to MLflow: where runs go, what a run records, reading runs back.

Store: `sqlite:///mlruns/mlflow.db` with artifacts under `mlruns/<experiment id>/`, relative to
the working directory, unless MLFLOW_TRACKING_URI is set (then that server or store is used as is).

What a run records (the schema the UI comparisons and zoo.compare rely on):
- params: every Config field; tags: variant, git_commit, package versions, data_sha256, host and
  pid of the process that runs it;
- metrics per epoch: train_loss, val_loss, train_/val_<task metric>, clipped_fraction,
  spectral_radius/<layer>; every N steps: grad_norm; per snapshot: grad_flow/<layer>/epoch<e>
  with step = distance to the last step; at the end: test_loss, test_<task metric>,
  train_seconds, tokens_per_sec, parameters, epochs_run;
- artifacts: config.json, learning_curves.png, gradient_flow.png, the model (mlflow.keras);
- a diverged run ends FAILED with tags nan_step and nan_cause.
"""

import base64
import contextlib
import fcntl
import json
import logging
import os
import platform
import re
import socket
import subprocess
import time
import zlib
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import tensorflow as tf
from mlflow.entities import Dataset, DatasetInput, InputTag, LoggedModelInput, Metric
from mlflow.tracking import MlflowClient

from zoo import compat, logged_model
from zoo.errors import Terminated, UserError

# The zoo reports a store that fails in one line of its own (StoreError); MLflow's SQL store would
# first log the error with its traceback, and its first use of a new store two INFO lines.
logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)

STORE_DIR = Path("mlruns")
# what a store that is read-only, full, or a server that is away raises
STORE_ERRORS = (mlflow.exceptions.MlflowException, OSError)


class StoreError(UserError):
    """The tracking store cannot be written or reached: one line, and what is kept where."""


def first_line(error):
    """The line of an error's message that says what went wrong: a database driver's error where
    MLflow wraps one (SQLAlchemy's message starts with advice), else the first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        driver = re.match(r"\((\w[\w.]*Error)\) (.+)", line)
        if driver:
            return f"{driver[1]}: {driver[2]}"[:300]
    return lines[0][:300] if lines else type(error).__name__
PACKAGES = {"tensorflow": tf.__version__, "keras": keras.__version__, "mlflow": mlflow.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def tracking_uri():
    """MLFLOW_TRACKING_URI, or sqlite:///mlruns/mlflow.db made absolute (MLflow caches stores by URI)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{STORE_DIR.resolve()}/mlflow.db"


def described_store(uri=None):
    """The tracking store in words that name neither credentials nor a local path (for reports
    people share): "a local SQLite store", "a PostgreSQL database", or the server's scheme://host:port."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri or tracking_uri())
    if parts.scheme in ("http", "https"):
        return f"the tracking server {parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    if parts.scheme.startswith(("postgresql", "mysql", "mssql")):
        return f"a {parts.scheme.split('+')[0]} database"
    return f"a local {parts.scheme or 'file'} store"


@contextlib.contextmanager
def store_lock(uri):
    """Holds an exclusive lock beside a sqlite store (<database>.lock) while it is opened: MLflow's
    schema set-up of a new database fails in all but one of several processes that start at once.
    Other stores (a tracking server) serialise by themselves: no lock."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    database = Path(uri[len("sqlite:///"):])
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(f"{database}.lock", os.O_RDONLY | os.O_CREAT)  # a lock needs no more than reading
    except OSError as error:
        raise StoreError(f"Cannot create the MLflow store {uri}: {error.strerror}. Run from a writable folder, "
                         "or set MLFLOW_TRACKING_URI.") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


_CONNECTED = set()


def connect():
    """Points MLflow at the store (MLflow also exports it as MLFLOW_TRACKING_URI, for subprocesses);
    the first time in a process, opens it under store_lock (a new sqlite store gets its tables
    then, once, however many processes start at once)."""
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    if uri not in _CONNECTED:
        with store_lock(uri):
            try:
                MlflowClient(uri).search_experiments(max_results=1)
            except STORE_ERRORS as error:
                raise StoreError(f"Cannot open the MLflow store {uri}: {first_line(error)}. Check that it is "
                                 "writable (or that the tracking server is up).") from None
        _CONNECTED.add(uri)


# MLflow 3's UI opens an experiment by its kind: this one shows the training runs and their
# comparison first, not the GenAI overview of traces
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}


# A saved view of the MLflow UI (3.17: the Views menu; stored as this experiment tag, its state
# zlib-compressed JSON as the UI writes it): the runs grouped by variant with the mean over the
# seeds in the metric columns, each group expanded to its runs, the parameters that vary beside.
VIEW_KEY = "zoo-variants"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"
VIEW_PARAMS = ("cell", "activation", "clipping", "optimizer", "learning_rate", "seed")


def comparison_view(metric):
    """The tag value of the saved view "zoo: variants" for a task whose metric is `metric`."""
    metrics = [f"test_{metric}", f"val_{metric}", "val_loss", "test_loss", "train_seconds", "epochs_run"]
    columns = [f"metrics.`{key}`" for key in dict.fromkeys(metrics)] + [f"params.`{key}`" for key in VIEW_PARAMS]
    state = {
        "searchFilter": "", "orderByKey": "attributes.start_time", "orderByAsc": False, "startTime": "ALL",
        "lifecycleFilter": "Active", "datasetsFilter": [], "modelVersionFilter": "All Runs",
        "selectedColumns": columns, "columnOrder": columns, "columnWidths": {}, "runsHiddenMode": "SHOW_ALL",
        "viewMaximized": False,
        "runListHidden": False, "isAccordionReordered": False, "useGroupedValuesInCharts": True,
        "hideEmptyCharts": True, "groupsExpanded": {},
        "groupBy": {"aggregateFunction": "average", "groupByKeys": [{"mode": "tag", "groupByData": "variant"}]},
        "globalLineChartConfig": {"xAxisKey": "step", "lineSmoothness": 0, "selectedXAxisMetricKey": ""},
    }
    packed = base64.b64encode(zlib.compress(json.dumps(state, separators=(",", ":")).encode())).decode()
    stamp = 1_767_225_600_000  # fixed: the same view is the same tag
    return json.dumps({"name": "zoo: variants (mean over seeds)", "createdAt": stamp, "updatedAt": stamp,
                       "state": f"deflate;{packed}"})


def view_url(ui, experiment):
    """The address of an experiment's saved view "zoo: variants" on the MLflow UI at `ui`."""
    return f"{ui.rstrip('/')}/#/experiments/{experiment}/runs?viewStateShareKey={VIEW_KEY}&workflowType=machine_learning"


def zoo_tags(name):
    """The tags of the zoo's experiment `name`: EXPERIMENT_KIND and the saved view "zoo: variants"
    (its columns: the metric of the task of that name, or the loss)."""
    from zoo import tasks  # here, not at the top: the task table is needed by nothing else in this module

    task = tasks.TASKS.get(name)
    return {**EXPERIMENT_KIND, VIEW_TAG: comparison_view(task.metric if task else "loss")}


def experiment_id(name):
    """The id of MLflow experiment `name`, created on first use (once, whatever runs at once),
    with zoo_tags (an older experiment of the zoo gets them too)."""
    connect()
    client = MlflowClient(tracking_uri())
    with store_lock(tracking_uri()):
        found = mlflow.get_experiment_by_name(name)
        if found is None:
            try:
                return mlflow.create_experiment(name, tags=zoo_tags(name))
            except mlflow.exceptions.MlflowException:  # created meanwhile by a process on another machine
                found = mlflow.get_experiment_by_name(name)
                if found is None:
                    raise
        for key, value in zoo_tags(name).items():
            if found.tags.get(key) != value:
                try:
                    client.set_experiment_tag(found.experiment_id, key, value)
                except mlflow.exceptions.MlflowException:  # another process wrote it at the same moment
                    pass
        return found.experiment_id


def _git_commit():
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=here, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


class Recorder:
    """Handle on the active run: what training reports goes through here into MLflow."""

    def __init__(self, run):
        self.run = run
        self.run_id = run.info.run_id
        self.status = "FINISHED"

    def log_metrics(self, metrics, step=None):
        mlflow.log_metrics({key: float(value) for key, value in metrics.items()}, step=step)

    def log_series(self, key, values, steps=None):
        """One metric key with value i at step i (or at steps[i]), in batches."""
        now = int(time.time() * 1000)
        steps = range(len(values)) if steps is None else steps
        metrics = [Metric(key, float(v), now, step) for step, v in zip(steps, values)]
        for start in range(0, len(metrics), 1000):
            MlflowClient().log_batch(self.run_id, metrics=metrics[start:start + 1000])

    def log_text(self, text, name):
        mlflow.log_text(text, name)

    def log_dict(self, dictionary, name):
        mlflow.log_dict(dictionary, name)

    def set_tags(self, tags):
        client = MlflowClient(tracking_uri())
        for key, value in tags.items():
            client.set_tag(self.run_id, key, str(value))

    def log_figure(self, figure, name):
        mlflow.log_figure(figure, name)

    def log_model(self, net, example):
        """The model with its signature and an input example (`mlflow.keras`). A model of several
        inputs takes its example as {input name: array}."""
        if isinstance(example, (tuple, list)):
            example = {tensor.name: array for tensor, array in zip(net.inputs, example)}
        signature = mlflow.models.infer_signature(example, net.predict(example, verbose=0))
        requirements = [f"{name}=={version}" for name, version in PACKAGES.items() if name != "python"]
        # mlflow.keras.log_model with the zoo's layer code inside (zoo.logged_model: it loads without
        # the zoo), and the workaround for mlflow/mlflow#16183 (zoo.compat)
        compat.log_keras_model(net, flavor=logged_model, name="model", signature=signature, input_example=example,
                               pip_requirements=requirements)

    def log_datasets(self, name, digest, source, profiles):
        """MLflow's dataset inputs (the runs table's Datasets column and filter): one per split of
        `profiles` ({split: {what: number}}), named <name>-<split> (MLflow keeps one input per name
        and digest), context = the split, digest (of the whole data) and source (a description:
        never a local path)."""
        inputs = [DatasetInput(Dataset(name=f"{name}-{split}", digest=digest[:36], source_type="zoo", source=source,
                                       profile=json.dumps(profile)),
                               tags=[InputTag(key="mlflow.data.context", value=split)])
                  for split, profile in (profiles or {"all": {}}).items()]
        MlflowClient(tracking_uri()).log_inputs(self.run_id, datasets=inputs)

    def log_model_inputs(self, model_ids):
        """MLflow 3 lineage: `model_ids` (logged models, e.g. those this run starts from) as inputs."""
        if model_ids:
            MlflowClient(tracking_uri()).log_inputs(self.run_id, models=[LoggedModelInput(i) for i in model_ids])

    def fail(self, **tags):
        """End this run as FAILED, with `tags` saying why (e.g. nan_step, nan_cause)."""
        mlflow.set_tags({key: str(value) for key, value in tags.items()})
        self.status = "FAILED"


@contextlib.contextmanager
def start_run(experiment, run_name, params=None, tags=None, nested=False, run_id=None, parent_run_id=None,
              system_metrics=False):
    """An MLflow run as a context: `params` (a dict, also saved as config.json), standard tags,
    and a Recorder to log to. It ends FINISHED; KILLED if interrupted (Ctrl-C, SIGTERM); FAILED if
    the body raised otherwise (tag `error`) or called `fail`. run_id: reopen that run (a resume:
    it goes RUNNING again, its params are already there). parent_run_id: a child of that run, from
    a process where it is not the active run (a Ray worker). system_metrics: MLflow's CPU, memory,
    disk and network samples (system/*) while the run is active."""
    try:
        if run_id is not None:
            connect()
            run = mlflow.start_run(run_id=run_id, nested=nested, log_system_metrics=system_metrics)
        else:
            run = mlflow.start_run(experiment_id=experiment_id(experiment), run_name=run_name, nested=nested,
                                   parent_run_id=parent_run_id, log_system_metrics=system_metrics)
    except STORE_ERRORS as error:
        raise StoreError(f"Cannot start an MLflow run in {tracking_uri()}: {first_line(error)}. Check that the "
                         "store is writable and has space (or that the tracking server is up).") from None
    recorder = Recorder(run)
    try:
        mlflow.set_tags({"git_commit": _git_commit(), **{f"version.{k}": v for k, v in PACKAGES.items()},
                         "host": socket.gethostname(), "pid": os.getpid(),
                         **({} if run_id is not None else tags or {})})  # a resumed run keeps its own
        if params is not None and run_id is None:
            mlflow.log_params({key: str(value) for key, value in params.items()})
            mlflow.log_dict(params, "config.json")
        yield recorder
    except BaseException as error:
        interrupted = isinstance(error, (KeyboardInterrupt, Terminated))
        with contextlib.suppress(Exception):  # the store itself may be what failed
            mlflow.set_tag("error", f"{type(error).__name__}: {error}".splitlines()[0][:500])
        with contextlib.suppress(Exception):
            mlflow.end_run("KILLED" if interrupted else "FAILED")
        raise
    mlflow.end_run(recorder.status)


class MetricsLogger(keras.callbacks.Callback):
    """Logs each epoch's Keras logs under the schema's names, and grad_norm every N steps (kept
    in memory and written once per epoch: a store write per step would slow training)."""

    SKIP = ("grad_norm", "val_grad_norm", "val_clipped_fraction")

    def __init__(self, recorder, grad_norm_every):
        super().__init__()
        self.recorder, self.every, self.step = recorder, grad_norm_every, 0
        self.steps, self.norms = [], []

    def catch_up(self, history):
        """Logs the epochs of `history` (Keras epoch logs, those of a resumed run) that the store
        does not have yet (the tracking server was away), at their epoch's step."""
        logged = len(metric_history(self.recorder.run_id, "train_loss"))
        for epoch in range(logged, len(history.get("loss", []))):
            self.recorder.log_metrics(epoch_metrics({key: values[epoch] for key, values in history.items()}),
                                      step=epoch + 1)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0 and "grad_norm" in (logs or {}):
            self.steps.append(self.step)
            self.norms.append(logs["grad_norm"])

    def flush(self):
        if self.steps:
            self.recorder.log_series("grad_norm", self.norms, self.steps)
            self.steps, self.norms = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.flush()
        self.recorder.log_metrics(epoch_metrics(logs or {}), step=epoch + 1)

    def on_train_end(self, logs=None):
        self.flush()  # a run stopped within an epoch (non-finite loss) keeps its last norms


def epoch_metrics(logs):
    """Keras epoch logs -> schema names: loss -> train_loss, mse -> train_mse, val_* kept."""
    metrics = {}
    for key, value in logs.items():
        if key in MetricsLogger.SKIP:
            continue
        if key == "loss" or not key.startswith(("val_", "spectral_radius", "clipped_fraction", "learning_rate")):
            key = "train_" + key
        metrics[key] = float(value)
    return metrics


def runs(experiment, parent_run_id=None):
    """The runs of `experiment` as a pandas DataFrame (children of `parent_run_id` if given)."""
    connect()
    if mlflow.get_experiment_by_name(experiment) is None:
        return pd.DataFrame()
    frame = mlflow.search_runs(experiment_names=[experiment])
    if frame.empty:
        return frame
    if parent_run_id is not None:
        frame = frame[frame.get("tags.mlflow.parentRunId", pd.Series(None, index=frame.index)) == parent_run_id]
    return frame.reset_index(drop=True)


def metric_history(run_id, key):
    """[value per step] of one metric of one run, in step order."""
    history = MlflowClient(tracking_uri()).get_metric_history(run_id, key)
    return [m.value for m in sorted(history, key=lambda m: m.step)]


def metric_keys_and_steps(run_id, keys):
    """{key: ([step...], [value...])} of the metrics `keys` of one run, each in step order."""
    client = MlflowClient(tracking_uri())
    found = {}
    for key in keys:
        history = sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)
        found[key] = ([m.step for m in history], [m.value for m in history])
    return found


def recorded_run_ids(experiment):
    """{original run id: run id here} of the runs of `experiment` a record needs not be imported
    for: those imported from records (tag record_of, set last) and the store's own runs (the
    machine that wrote the records)."""
    frame = runs(experiment)
    if frame.empty:
        return {}
    own = dict(zip(frame["run_id"], frame["run_id"]))
    if "tags.record_of" not in frame:
        return own
    imported = frame[frame["tags.record_of"].notna()]
    return {**own, **dict(zip(imported["tags.record_of"], imported["run_id"]))}


def import_record(record):
    """A run record (zoo.records) as a run of its experiment in this store, with its original
    start and end, status, params, tags (plus record_of = its original id, written last) and
    metric histories; returns the new run's id. A failure deletes the run (MLflow's deleted runs)."""
    from mlflow.entities import Param

    client = MlflowClient(tracking_uri())
    tags = {**record["tags"], "mlflow.runName": record["name"]}
    run = client.create_run(experiment_id(record["experiment"]), start_time=record["start_time"],
                            tags=tags, run_name=record["name"])
    run_id, stamp = run.info.run_id, record["start_time"]
    try:
        params = [Param(key, str(value)) for key, value in record["params"].items()]
        metrics = [Metric(key, float(value), stamp, step) for key, (steps, values) in record["histories"].items()
                   for step, value in zip(steps, values)]
        finals = set(record["histories"])
        metrics += [Metric(key, float(value), stamp, 0) for key, value in record["metrics"].items() if key not in finals]
        for start in range(0, max(len(params), len(metrics)), 100):
            client.log_batch(run_id, metrics=metrics[start:start + 100], params=params[start:start + 100])
        client.set_terminated(run_id, record["status"], end_time=record["end_time"])
        client.set_tag(run_id, "record_of", record["run_id"])  # last: a run cut short is never taken as imported
    except BaseException:
        with contextlib.suppress(Exception):
            client.delete_run(run_id)
        raise
    return run_id


def log_artifacts(run_id, paths):
    client = MlflowClient(tracking_uri())
    for path in paths:
        client.log_artifact(run_id, str(path))


def run_config(run_id):
    """The configuration (a dict of Config fields) of a run, from its params (in the store's
    database: there also when its artifacts could not be written)."""
    from zoo.config import FIELDS, parse_assignment

    params = get_run(run_id).data.params
    return dict(parse_assignment(f"{name}={params[name]}") for name in FIELDS if name in params)


def load_run(run_id):
    """(config dict, {name: zoo.text.Tokenizer}, keras model) of a finished run that logged a model."""
    from zoo.text import restored

    client = MlflowClient(tracking_uri())
    connect()
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException:
        raise UserError(f"No MLflow run {run_id!r} in {tracking_uri()}; list runs with make ui "
                        "or python -m zoo compare.") from None
    if run.info.status != "FINISHED":
        raise UserError(f"MLflow run {run_id} is {run.info.status}; pick a FINISHED run.")
    config = mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json")
    names = {artifact.path for artifact in client.list_artifacts(run_id)}
    if "tokenizer.json" not in names:
        raise UserError(f"MLflow run {run_id} has no tokenizer.json (it predates the zoo's tokenizer or "
                        "has no text input); train it again with this version.")
    tokenizers = restored(mlflow.artifacts.load_dict(f"runs:/{run_id}/vocabulary.json"),
                          mlflow.artifacts.load_dict(f"runs:/{run_id}/tokenizer.json"))
    return config, tokenizers, mlflow.keras.load_model(f"runs:/{run_id}/model")


def best_recipe(parent_run_id):
    """The optimizer and learning rate of the configuration a sweep's parent chose (best_config.json)."""
    connect()
    try:
        config = mlflow.artifacts.load_dict(f"runs:/{parent_run_id}/best_config.json")
    except mlflow.exceptions.MlflowException:
        return "none (no run of the search finished)"
    return {key: config[key] for key in ("optimizer", "learning_rate")}


def get_run(run_id):
    """The MLflow run `run_id`, or a one-line UserError naming the store."""
    try:
        return MlflowClient(tracking_uri()).get_run(run_id)
    except mlflow.exceptions.MlflowException:
        raise UserError(f"No MLflow run {run_id!r} in {tracking_uri()}; list runs with make ui "
                        "or python -m zoo compare.") from None


def process_gone(status, host, pid):
    """True if a run (its status, and its tags host and pid) is RUNNING but the process that
    started it is gone: killed with SIGKILL, out of memory, or the machine restarted. None if it
    ran on another host."""
    if status != "RUNNING" or pid is None or pid != pid:  # no pid tag (or NaN in a DataFrame)
        return False
    if host != socket.gethostname():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def stale_runs():
    """The RUNNING runs of every experiment whose process is gone (zoo.tracking.process_gone);
    none, and no store created, where the default store does not exist yet."""
    if "MLFLOW_TRACKING_URI" not in os.environ and not (STORE_DIR / "mlflow.db").exists():
        return []
    connect()
    client = MlflowClient(tracking_uri())
    experiments = [e.experiment_id for e in client.search_experiments()]
    found = client.search_runs(experiments, "attributes.status = 'RUNNING'") if experiments else []
    return [run for run in found if process_gone(run.info.status, run.data.tags.get("host"), run.data.tags.get("pid"))]


def append_tag(key, value):
    """Adds `value` to the active run's comma-separated tag `key` (once)."""
    run = mlflow.active_run()
    known = MlflowClient(tracking_uri()).get_run(run.info.run_id).data.tags.get(key, "").split(",")
    mlflow.set_tag(key, ",".join(filter(None, dict.fromkeys(known + [value]))))


def end_run(run_id, status, tags=None):
    """Sets a run's status (and tags) from outside it, dropping the tags of an interruption
    (`error`, `resume`): for a run whose process was ended on purpose (zoo.cluster.early_stopped)."""
    client = MlflowClient(tracking_uri())
    for key, value in (tags or {}).items():
        client.set_tag(run_id, key, value)
    for key in ("error", "resume"):
        with contextlib.suppress(mlflow.exceptions.MlflowException):  # absent
            client.delete_tag(run_id, key)
    client.set_terminated(run_id, status)


def delete_run(run_id):
    """Moves a run to MLflow's deleted runs (a Ray trial's attempt that died before training anything)."""
    MlflowClient(tracking_uri()).delete_run(run_id)


def mark_killed(run):
    MlflowClient(tracking_uri()).set_terminated(run.info.run_id, "KILLED")


def finished_baseline(experiment, baseline, params):
    """The newest FINISHED run of `experiment` with tag baseline=`baseline` whose params include
    `params` ({name: string}, each equal; a run logged before a configuration field existed has
    that field's default), or None (also where the experiment does not exist)."""
    from zoo.config import FIELDS

    connect()
    found = mlflow.get_experiment_by_name(experiment)
    if found is None:
        return None
    logged = MlflowClient(tracking_uri()).search_runs(
        [found.experiment_id], f"tags.baseline = '{baseline}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"])
    defaults = {name: str(field.default) for name, field in FIELDS.items()}
    return next((run for run in logged if all(run.data.params.get(k, defaults.get(k)) == v for k, v in params.items())),
                None)


def log_params(params):
    """Logs `params` (values as strings) to the active run."""
    mlflow.log_params({key: str(value) for key, value in params.items()})
