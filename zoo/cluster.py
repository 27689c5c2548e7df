"""Sweeps on a Ray cluster: `python -m zoo sweep ... --executor ray [--address HOST:PORT | auto]`.

    results = run_trials([(0, config), (1, other)], parent_run_id, address="auto")

Each configuration is one Ray Tune trial with its own reservation (`cpus` CPUs, `gpus` GPUs),
placed on any node with room: every node trains at once. A trial trains with zoo.train.run and
logs a child of the sweep's parent run to the shared tracking store (the driver's
MLFLOW_TRACKING_URI: a tracking server for a real cluster; mlflow.start_run(parent_run_id=...),
since Ray's MLflow callback does not nest runs, ray#19978, ray#36257).

Faults: a trial whose worker or node dies is tried again, up to RETRIES times (Tune's
FailureConfig), and continues the same MLflow run from its checkpoint (zoo.checkpoints: with a
tracking server the checkpoints travel as the run's artifacts, so no node needs another's disk), or trains that run's configuration anew under a new run when none was
saved yet (the old one, with nothing trained, is deleted): each configuration ends with one child.
With scheduler="asha" a trial reports each epoch's val_loss and Tune's ASHA scheduler stops those
behind the others; their runs end FINISHED with tag `early_stopped`.
"""

import os
import time
from pathlib import Path

import pandas as pd

from zoo import checkpoints, tracking
from zoo.errors import Terminated, UserError
from zoo.results import RunResult

RETRIES = 2  # tries after the first, per trial (a worker or node that died)
SCHEDULERS = ("fifo", "asha")


LOOPBACK = ("127.0.0.1", "localhost", "::1")
# a tracking server's login: handed to each trial with its parameters (Ray's object store), never
# put in Ray's runtime environment, whose variables Ray writes into its logs (runtime_env_agent.log)
LOGIN = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
ANSWER_SECONDS = 5  # how long a cluster's address has to accept a connection (Ray's client retries for minutes)


def check_address(address):
    """Refuses, in one line, an --address that is not None, "auto" or HOST:PORT, or where nothing
    accepts a TCP connection within ANSWER_SECONDS (Ray itself would retry for minutes, printing
    its C++ log lines). None stands for RAY_ADDRESS (Ray here where it is unset), "auto" for
    RAY_ADDRESS or the last cluster started on this machine (latest_cluster), as in ray.init."""
    import socket

    if address in (None, "auto"):
        address = os.environ.get("RAY_ADDRESS") or (latest_cluster() if address == "auto" else None)
    if address in (None, "auto", "local"):
        return
    host, _, port = str(address).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"Invalid --address {address!r}; expected HOST:PORT (the head node's GCS, e.g. "
                        "127.0.0.1:6379) or auto.")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=ANSWER_SECONDS).close()
    except OSError as error:
        raise UserError(f"Cannot join the Ray cluster at {address}: nothing accepts a connection there within "
                        f"{ANSWER_SECONDS} s ({error.strerror or error}). Start one with ray start --head, or "
                        "leave --address out to start Ray here.") from None


def latest_cluster():
    """The address Ray's `auto` joins: the last cluster `ray start` (or a test's Cluster) started on
    this machine, as Ray wrote it in its temp folder (ray_current_cluster); None if there is none."""
    try:
        from ray._private.utils import read_ray_address
    except ImportError:  # no Ray: connect says how to install it
        return None
    return read_ray_address()


def connect(address=None):
    """Joins the Ray cluster at `address` ("auto": the one started on this machine with `ray
    start`), or starts Ray on this machine's loopback address (None, RAY_ADDRESS unset: Ray's own
    None would join the last cluster started here, alive or not); returns (ray, whether this
    call connected). Workers get the tracking store's URI (and ZOO_DATA_DIR and ZOO_CACHE_DIR where
    they are set; MLflow's login comes with each trial, LOGIN). A caller that has called ray.init keeps its cluster."""
    where = address or os.environ.get("RAY_ADDRESS")  # ray.init(address=None) joins RAY_ADDRESS's cluster
    host = str(where).rpartition(":")[0].strip("[]")
    if where is None or host in LOOPBACK:  # Ray here, or a cluster on this machine's loopback address:
        # without this Ray joins as the machine's interface address, where a loopback cluster does
        # not listen (services.resolve_ip_for_localhost); read when ray is first imported
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise UserError("--executor ray needs Ray: run make install (requirements.txt has ray[tune]).") from None
    if ray.is_initialized():
        return ray, False
    if where is None:  # ray.init(address=None) would join the last cluster started on this machine, alive or not
        address = "local"
    check_address(address)
    import socket

    env = {"MLFLOW_TRACKING_URI": tracking.tracking_uri(), "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_SHARE_CHECKPOINTS": "1",
           "ZOO_DRIVER_HOST": socket.gethostname(),  # a worker on another machine refuses a sqlite store
           "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])),
           **{name: os.environ[name] for name in ("ZOO_DATA_DIR", "ZOO_CACHE_DIR") if os.environ.get(name)}}
    try:
        ray.init(address=address, runtime_env={"env_vars": env, "worker_process_setup_hook": "zoo.program.ray_worker"},
                 include_dashboard=False,
                 logging_level="WARNING", log_to_driver=True)
        return ray, True
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = "start Ray here" if address == "local" else f"join the Ray cluster at {address}"
        raise UserError(f"Cannot {where}: {tracking.first_line(error)}. Start one with "
                        "ray start --head (then --address auto), or leave --address out to start Ray here.") from None


def epoch_reporter(node, epochs):
    """A Keras callback that reports each epoch's val_loss but the last to Tune (for its scheduler:
    the last comes with the run's results) and tags the run with the nodes it trained on; a trial
    the scheduler stops ends like SIGTERM (KILLED, its state saved), then `early_stopped` ends its run."""
    import keras
    from ray import tune

    class EpochReporter(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            tracking.append_tag("ray_nodes", node)  # a resumed trial moves: every node it trained on

        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 >= epochs:
                return
            try:
                tune.report({"epoch": epoch + 1, "val_loss": float((logs or {}).get("val_loss", float("nan")))})
            except SystemExit:  # Tune's way of stopping a trial's thread
                raise Terminated("stopped by the trial scheduler") from None

    return EpochReporter()


def earlier_attempt(task, parent_run_id, trial_id):
    """The run an earlier attempt of this trial left (its worker died), or None."""
    frame = tracking.runs(task, parent_run_id)
    if frame.empty or "tags.ray_trial_id" not in frame:
        return None
    found = frame[frame["tags.ray_trial_id"] == trial_id]
    return None if found.empty else found.iloc[0]


def local_store_here(node):
    """Refuses, in one line, a worker whose tracking store is a sqlite file that is not on its
    node, or on a machine other than the driver's (ZOO_DRIVER_HOST, set by connect): MLflow would
    create a new, private database there, or write into an old copy of the file."""
    import socket

    uri = tracking.tracking_uri()
    driver = os.environ.get("ZOO_DRIVER_HOST")
    elsewhere = driver is not None and driver != socket.gethostname()
    if uri.startswith("sqlite:///") and (elsewhere or not Path(uri[len("sqlite:///"):]).exists()):
        raise UserError(f"The tracking store {uri} is not on node {node}: a sqlite store is one machine's file. "
                        "For a cluster of several machines run a tracking server (make server) and set "
                        "MLFLOW_TRACKING_URI to it.")


def work_in_project(cwd, node):
    """Changes into the node's own clone of the project (ZOO_PROJECT_DIR), else into the driver's
    folder `cwd` where the node has it: data paths and checkpoints are relative to the project
    folder. Refuses, in one line, a ZOO_PROJECT_DIR that is not a folder."""
    home = os.environ.get("ZOO_PROJECT_DIR")
    if home and not os.path.isdir(home):
        raise UserError(f"ZOO_PROJECT_DIR={home} on node {node} is not a folder: set it to the node's clone of the "
                        "project (ray start's environment).")
    if os.path.isdir(home or cwd):
        os.chdir(home or cwd)


def _trial(params, configs, parent_run_id, run, extra, cwd, stopped, login):
    """One configuration, in a Ray worker: train (or continue) it with `run` (zoo.train.run), then
    report its outcome. login: the driver's MLflow login (LOGIN), for a tracking server with
    authentication: the worker logs in as the driver."""
    import ray
    from ray import tune

    os.environ.update(login)
    import zoo.program  # noqa: F401  (a worker is a program: its process settings)

    index = params["index"]
    config, trial_id = configs[index], tune.get_context().get_trial_id()
    node = ray.get_runtime_context().get_node_id()[:12]
    name = f"{config.task}-{config.variant(extra)}"
    try:
        work_in_project(cwd, node)
        local_store_here(node)
    except UserError as error:
        tune.report({"status": "ERROR", "run_id": "", "reason": str(error), "val_loss": float("nan"), "epoch": 0})
        return
    resume = stopped.get(index)
    if resume is not None and not checkpoints.fetch(resume):  # its checkpoint went (or its server is away)
        print(f"trial {trial_id}: MLflow run {resume} has no checkpoint left; training it again", flush=True)
        tracking.delete_run(resume)
        resume = None
    earlier = earlier_attempt(config.task, parent_run_id, trial_id)
    diverged = earlier is not None and pd.notna(earlier.get("tags.nan_step"))
    if earlier is not None and (earlier["status"] == "FINISHED" or diverged):  # it ended before its worker did
        tune.report({"status": earlier["status"], "run_id": earlier["run_id"],
                     "reason": str(earlier.get("tags.nan_cause")) if diverged else "",
                     "val_loss": float("nan"), "epoch": config.epochs})
        return
    if earlier is not None and checkpoints.fetch(earlier["run_id"]):
        resume = earlier["run_id"]
        print(f"trial {trial_id}: continuing MLflow run {resume} from its checkpoint on node {node}", flush=True)
    elif earlier is not None:  # it died (or failed) before its first checkpoint: nothing trained to keep
        tracking.delete_run(earlier["run_id"])
    try:
        result = run(config, nested=False, parent_run_id=parent_run_id, extra_variant_fields=extra,
                           resume=resume, tags={"ray_trial_id": trial_id}, callbacks=[epoch_reporter(node, config.epochs)])
    except UserError as error:  # the data or the store, on this node: the trial's result, not a traceback
        result = RunResult("", name, "ERROR", {}, error=str(error).splitlines()[0])
    final = {key: value for key, value in result.metrics.items() if isinstance(value, (int, float))}
    tune.report({**final, "status": result.status, "run_id": result.run_id,
                 "reason": result.error or result.nan_cause or "",
                 "val_loss": min(result.history.get("val_loss") or [float("nan")]),
                 "epoch": len(result.history.get("loss", []))})


def run_trials(pending, parent_run_id, run, extra=(), stopped=None, address=None, cpus=1, gpus=0, scheduler="fifo"):
    """Runs `pending` ([(index, Config)]) as Ray Tune trials, each a child of `parent_run_id`
    trained by `run` (zoo.train.run, in the worker); stopped: {index: run id} to continue from
    their checkpoints. Returns a zoo.results.RunResult each (status ERROR, with the reason, for a
    trial that failed RETRIES + 1 times)."""
    if scheduler not in SCHEDULERS:
        raise UserError(f"Invalid scheduler {scheduler!r}; valid choices: {', '.join(SCHEDULERS)}.")
    ray, joined = connect(address)
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    configs = dict(pending)
    epochs = max(config.epochs for config in configs.values())
    trainable = tune.with_resources(tune.with_parameters(
        _trial, configs=configs, parent_run_id=parent_run_id, run=run, extra=tuple(extra), cwd=os.getcwd(),
        stopped=dict(stopped or {}), login={name: os.environ[name] for name in LOGIN if os.environ.get(name)}),
        {"cpu": cpus, "gpu": gpus})
    chosen = ASHAScheduler(time_attr="epoch", max_t=epochs, grace_period=1, reduction_factor=2) \
        if scheduler == "asha" else FIFOScheduler()
    tuner = tune.Tuner(
        trainable, param_space={"index": tune.grid_search(list(configs))},
        tune_config=tune.TuneConfig(metric="val_loss", mode="min", scheduler=chosen, reuse_actors=True),
        run_config=tune.RunConfig(name=f"sweep-{parent_run_id}", storage_path=str(checkpoints.folder("ray")),
                                  failure_config=tune.FailureConfig(max_failures=RETRIES), verbose=1))
    grid = tuner.fit()
    results = []
    for outcome in grid:
        index = outcome.config["index"]
        config = configs[index]
        name = f"{config.task}-{config.variant(extra)}"
        metrics = outcome.metrics or {}
        if outcome.error is not None:
            cause = str(outcome.error).strip().splitlines()[-1][:300]  # the exception, after Ray's traceback
            results.append(RunResult("", name, "ERROR", {}, error=f"its trial failed {RETRIES + 1} times: {cause}"))
        elif "status" not in metrics:  # stopped by the scheduler after an epoch
            run_id = early_stopped(config.task, parent_run_id, metrics.get("trial_id"), metrics.get("epoch"))
            results.append(RunResult(run_id or "", name, "FINISHED", {"val_loss": metrics.get("val_loss")}))
        else:
            kept = {key: value for key, value in metrics.items() if key.startswith(("test_", "train_seconds"))}
            reason = metrics.get("reason") or None
            results.append(RunResult(metrics["run_id"], name, metrics["status"], kept,
                                     nan_cause=reason if metrics["status"] == "FAILED" else None,
                                     error=reason if metrics["status"] == "ERROR" else None))
    if joined:
        ray.shutdown()
    return results


def early_stopped(task, parent_run_id, trial_id, epochs, wait=30):
    """Ends the run of a trial that the scheduler stopped (its worker was ended mid-training)
    FINISHED, tagged early_stopped; returns its run id."""
    run = earlier_attempt(task, parent_run_id, trial_id)
    if run is None:
        return None
    deadline = time.monotonic() + wait  # the worker may still be ending
    while tracking.process_gone("RUNNING", run.get("tags.host"), run.get("tags.pid")) is False \
            and time.monotonic() < deadline:
        time.sleep(0.5)
    tracking.end_run(run["run_id"], "FINISHED", {"early_stopped": f"by ASHA after {epochs} epoch(s): its "
                                                 "val_loss was behind the other trials'"})
    checkpoints.remove(run["run_id"])
    return run["run_id"]
