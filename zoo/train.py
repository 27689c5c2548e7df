"""run(config) and sweep(configs): prepare (data, model) -> fit -> evaluate and log.

    from zoo.config import Config
    from zoo.train import run, sweep
    result = run(Config(task="adding", cell="vanilla", activation="relu", clipping="global_norm"))
    done = sweep(grid(Config(task="adding"), {"cell": ["vanilla", "gru"], "seed": [0, 1]}))
"""

import dataclasses
import itertools
import json
import sys

import keras
import pandas as pd
from tqdm import tqdm

from zoo import cells, checkpoints, cluster, compare, datasets, diagnostics, models, plots, tasks, text, tracking, transfer
from zoo.config import FIELDS, Config, joins_variant_name, validate
from zoo.data.pipelines import prepared
from zoo.errors import Terminated, UserError
from zoo.results import RunResult, SweepResult


class ResetStates(keras.callbacks.Callback):
    """Zeroes the carried state of a stateful network before every epoch and every evaluation."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def reset(self, *_):
        for layer in diagnostics.recurrent_layers(self.net):
            if layer.stateful:
                layer.reset_state()

    on_epoch_begin = on_test_begin = reset


def compiled_monitor(config, net, jit_compile=None, carried=()):
    """`net` wrapped in a GradientMonitor and compiled with the configured loss, metrics and
    optimizer: what `run` trains (benchmarks/lm_throughput.py times the same). jit_compile: Keras's,
    by default True with config.xla_training, else "auto". carried: the variables zoo.transfer
    carried into `net` (their updates scaled, config.pretrained_lr_scale)."""
    if jit_compile is None:
        jit_compile = True if config.xla_training else "auto"
    loss, metrics = models.loss_and_metrics(config, net.output_shape[-1])
    monitor = diagnostics.GradientMonitor(net, perplexity=tasks.get(config.task).perplexity,
                                          xla_evaluation=config.xla_evaluation,
                                          evaluation_steps_per_execution=config.evaluation_steps_per_execution,
                                          carried=carried, sampled_softmax=config.sampled_softmax)
    monitor.compile(models.optimizer(config), loss=loss, metrics=metrics, jit_compile=jit_compile)
    return monitor


@dataclasses.dataclass
class Plan:
    """One run, resolved once: its configuration, task, dataset and cell, its data and its
    compiled network. What the steps of `run` receive."""

    config: Config
    task: tasks.TaskSpec
    dataset: datasets.Dataset
    cell: cells.Cell
    data: object  # zoo.data.Data
    net: keras.Model
    monitor: diagnostics.GradientMonitor  # net, compiled, with the gradient statistics
    carried: list  # the variables zoo.transfer carried into net
    probe: tuple  # (inputs, targets): the fixed validation batch of the gradient flow
    name: str  # the run's name, <task>-<variant>
    tags: dict
    source_models: list  # the logged models of the run it starts from (config.init_from), for MLflow's lineage
    count_baseline: float | None  # the test metric of the task's counting model on the same data


@dataclasses.dataclass
class Trained:
    """What `fit` leaves for `evaluate_and_log`."""

    history: dict  # every epoch's Keras logs, those before a resume included
    seconds: float  # training time, that before a resume included
    kept_epoch: int  # 1-based: the epoch with the lowest val_loss, whose weights the network has
    flow: diagnostics.GradientFlow
    guard: diagnostics.NaNGuard


def prepare(config, data=None, extra_variant_fields=(), tags=None):
    """The Plan of `config`: checks it, loads its data (unless given), seeds, builds and compiles
    the network (from a pretrained run's layers with config.init_from), and fits the task's count
    baseline, all before an MLflow run exists."""
    validate(config)
    task, dataset = tasks.get(config.task), datasets.get(config)
    transfer.check(config)
    data = data if data is not None else datasets.load(config, dataset)
    keras.utils.set_random_seed(config.seed)
    if config.sampled_softmax >= data.num_outputs:
        raise UserError(f"Invalid sampled_softmax {config.sampled_softmax}: expected fewer sampled ids than the "
                        f"{data.num_outputs:,} of the vocabulary; lower it, or use 0 (the full softmax).")
    net = models.build(config, data)
    carried = transfer.initialize(net, config, data.tokenizers.get("tokens"))
    monitor = compiled_monitor(config, net, carried=carried)
    probe = next(iter(data.val))
    variant = config.variant(extra_variant_fields)
    lineage, source_models = transfer.lineage(config)
    tags = {"variant": variant, "data_sha256": data.fingerprint, **data.report, **lineage, **(tags or {})}
    return Plan(config, task, dataset, cells.CELLS[config.cell], data, net, monitor, carried, probe,
                f"{config.task}-{variant}", tags, source_models, count_baseline(config, data))


def log_inputs(plan, recorder):
    """What a new run logs before training: the training split's vocabularies (id i is entry i)
    and tokenizers, the pretrained model it starts from, and its datasets (MLflow's Datasets column)."""
    config, data = plan.config, plan.data
    if data.tokenizers:
        vocabularies, settings = text.saved(data.tokenizers)
        recorder.log_dict(vocabularies, "vocabulary.json")
        recorder.log_dict(settings, "tokenizer.json")
        recorder.log_model_inputs(plan.source_models)
    recorder.log_datasets(config.dataset, data.fingerprint, datasets.described(plan.dataset), data.counts)


def fit(plan, recorder, resume=False, callbacks=()):
    """Trains plan.net, checkpointed (a resumed run continues from its checkpoint); returns Trained.
    Ctrl-C or SIGTERM saves the state and raises the interrupt with the command that continues."""
    config, net, data = plan.config, plan.net, plan.data
    guard = diagnostics.NaNGuard()
    flow = diagnostics.GradientFlow(net, *plan.probe, plan.monitor.loss, config.epochs, config.flow_samples)
    # one rule for every task: the weights tested are those of the epoch with the lowest val_loss
    # (restored at the end of training); patience > 0 also stops once it stops falling
    early = checkpoints.ResumableEarlyStopping(monitor="val_loss", patience=config.patience or config.epochs + 1,
                                               restore_best_weights=True)
    checkpoint = checkpoints.Checkpoint(recorder.run_id, config.checkpoint_every, guard, flow, early)
    logger = tracking.MetricsLogger(recorder, config.grad_norm_every)
    progress = checkpoint.restore(logger, data.train) if resume else {}
    reset = ResetStates(net)
    fit_callbacks = [reset, guard, diagnostics.SpectralRadius(net), flow]
    if config.lr_decay != 1.0:
        fit_callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch: config.learning_rate * (
            config.lr_decay ** max(0, epoch + 1 - config.lr_decay_after))))
    if plan.carried:
        fit_callbacks.append(diagnostics.PretrainedSchedule(plan.monitor, config.freeze_epochs,
                                                            config.pretrained_lr_scale))
    # the state is saved before the store is written: a store that fails leaves the epoch in the
    # checkpoint, logged on resume
    fit_callbacks += [early, checkpoint, logger, *callbacks]
    # a run that had stopped early (or ended its last epoch) before it was stopped only restores
    last_epoch = progress["epoch"] if progress.get("stopped") else config.epochs
    try:
        plan.monitor.fit(data.train, validation_data=data.val, epochs=last_epoch, callbacks=fit_callbacks,
                         shuffle=False,  # tf.data shuffles
                         verbose=1 if sys.stdout.isatty() else 2)
    except (KeyboardInterrupt, Terminated) as interrupt:
        checkpoint.save()
        recorder.set_tags({"resume": f"python -m zoo train --resume {recorder.run_id}"})
        raise type(interrupt)(f"run {plan.name} stopped; its training state is saved in {checkpoint.path}; "
                              f"continue it with: python -m zoo train --resume {recorder.run_id}") from None
    epochs_run = len(checkpoint.history.get("loss", []))
    kept = early.best_epoch + 1 if early.best_weights is not None else epochs_run
    return Trained(checkpoint.history, checkpoint.seconds(), kept, flow, guard)


def evaluate_and_log(plan, recorder, trained):
    """Logs the curves and the gradient flow; a diverged run ends FAILED there. Otherwise tests the
    kept weights, adds the task's report and logs the results and the model; returns RunResult."""
    config, data, net, task = plan.config, plan.data, plan.net, plan.task
    history, name = trained.history, plan.name
    epochs_run = len(history.get("loss", []))
    results = {"train_seconds": trained.seconds, "tokens_per_sec": data.train_tokens * epochs_run / trained.seconds,
               "parameters": net.count_params(), "epochs_run": epochs_run, "kept_epoch": trained.kept_epoch}
    if plan.count_baseline is not None:
        results[f"baseline_test_{task.metric}"] = plan.count_baseline
    recorder.log_figure(plots.learning_curves(history, task.metric, name), "learning_curves.png")
    snapshots = trained.flow.snapshots
    for epochs, layers in snapshots:
        for layer, norms in layers.items():  # step of the series = distance to the last step
            recorder.log_series(f"grad_flow/{layer}/epoch{epochs}", norms[::-1])
    if snapshots and snapshots[0][1]:  # a tcn has no recurrent layer to show
        recorder.log_figure(plots.gradient_flow_heatmap(snapshots, name), "gradient_flow.png")
    guard = trained.guard
    result = RunResult(recorder.run_id, name, "FINISHED", results, history=history, flow=snapshots,
                       steps_per_epoch=guard.step // max(1, epochs_run), model=net)
    if guard.nan_step is not None:  # a diverged run is a result, not something to resume
        recorder.log_metrics(results)
        recorder.fail(nan_step=guard.nan_step, nan_cause=guard.nan_cause)
        return dataclasses.replace(result, status="FAILED", nan_step=guard.nan_step, nan_cause=guard.nan_cause)
    test = plan.monitor.evaluate(data.test, return_dict=True, verbose=0, callbacks=[ResetStates(net)])
    results.update({f"test_{key}": value for key, value in test.items()
                    if key not in ("clipped_fraction", "compile_metrics")})
    if task.stateful:  # the same weights without carried state, for any batch and length
        stateless = models.build(config, data, stateful=False)
        stateless.set_weights(net.get_weights())
        net = stateless
    report = task.report(net, data, config, plan.dataset, name)  # the task's own artifacts and metrics
    for artifact, content in report.texts.items():
        recorder.log_text(content, artifact)
    for artifact, figure in report.figures.items():
        recorder.log_figure(figure, artifact)
    results.update(report.metrics)
    recorder.log_metrics(results)
    recorder.log_model(net, keras.tree.map_structure(lambda x: keras.ops.convert_to_numpy(x[:2]), plan.probe[0]))
    return dataclasses.replace(result, model=net)


def run(config, data=None, nested=False, extra_variant_fields=(), resume=None, parent_run_id=None, tags=None,
        callbacks=()):
    """Trains, evaluates and tracks one configuration; returns a RunResult (its `model` the trained
    network). The steps: prepare, then in an MLflow run: log_inputs, fit, evaluate_and_log.

    data: a zoo.data.Data, or None to load config.dataset. parent_run_id: a child of that sweep
    (from a Ray worker, zoo.cluster); tags: more tags for a new run; callbacks: more Keras
    callbacks, called after the epoch is in the store. A run whose loss or gradient norm
    becomes non-finite stops there and ends FAILED with tags nan_step and nan_cause. The training
    state is checkpointed (zoo.checkpoints); Ctrl-C or SIGTERM saves it and ends the run KILLED.
    resume: the id of such a run (of this configuration) to continue, in the same MLflow run.
    """
    plan = prepare(config, data, extra_variant_fields, tags)
    with tracking.start_run(config.task, plan.name, dataclasses.asdict(config), tags=plan.tags, nested=nested,
                            run_id=resume, parent_run_id=parent_run_id,
                            system_metrics=config.system_metrics) as recorder:
        try:
            if not resume:
                log_inputs(plan, recorder)
            result = evaluate_and_log(plan, recorder, fit(plan, recorder, bool(resume), callbacks))
        except tracking.STORE_ERRORS as error:  # a full or read-only store, a server that went away
            kept = (f"its training state is kept in {checkpoints.folder(recorder.run_id)}; once the store works "
                    f"again: python -m zoo train --resume {recorder.run_id}") if checkpoints.exists(recorder.run_id) \
                else "nothing was trained yet"
            raise tracking.StoreError(f"MLflow run {recorder.run_id} could not be written to {tracking.tracking_uri()} "
                                      f"({tracking.first_line(error)}); {kept}.") from None
    # the model is in the store (or the run diverged): the training state is no longer needed
    checkpoints.remove(recorder.run_id)
    return result


def resume(run_id):
    """Continues MLflow run `run_id` (KILLED, FAILED by an error, or RUNNING with its process gone)
    from its checkpoint, as the same run; returns its RunResult."""
    recorded = tracking.get_run(run_id)
    status, tags = recorded.info.status, recorded.data.tags
    if status == "FINISHED":
        raise UserError(f"MLflow run {run_id} is already FINISHED; nothing to resume.")
    if "nan_step" in tags:
        raise UserError(f"MLflow run {run_id} diverged ({tags.get('nan_cause', 'non-finite loss')}): a diverged "
                        "run is a result, not something to resume.")
    if status == "RUNNING" and not tracking.process_gone(status, tags.get("host"), tags.get("pid")):
        raise UserError(f"MLflow run {run_id} is RUNNING in process {tags.get('pid')} on {tags.get('host')}; "
                        "stop that process first (or wait for it).")
    if not checkpoints.fetch(run_id):
        raise UserError(f"MLflow run {run_id} has no checkpoint in {checkpoints.folder(run_id)}"
                        f"{' or on the tracking server' if checkpoints.shared() else ''}; "
                        "train it again with python -m zoo train.")
    config = validate(Config(**tracking.run_config(run_id)))
    return run(config, resume=run_id)


EXECUTORS = ("local", "ray")


def grid(base, values):
    """Every combination of `values` ({field: [values]}) over `base`, each validated."""
    return [validate(dataclasses.replace(base, **dict(zip(values, combination))))
            for combination in itertools.product(*values.values())]


def count_baseline(config, data):
    """The task's count baseline on `data` (majority class, most frequent tag, add-one unigram),
    once per data in a process (a sweep's runs share it; the unigram's windows depend on batch_size);
    None where the task has none (the synthetic tasks)."""
    task = tasks.get(config.task)
    if not task.count_baseline_name:
        return None
    return prepared(config, data.digest or data.fingerprint, lambda: task.count_baseline(data),
                    also=("batch_size",), kind="count baseline")


def sweep(configs, data=None, resume=True, name=None, parent_run_id=None, executor="local",
          address=None, cpus=1, gpus=0, scheduler="fifo"):
    """`configs` (of one task) as one parent MLflow run with a nested child run each; a child
    that diverges ends FAILED and the others go on. Fields that differ between the configs
    (besides those a variant name shows) join the children's names.

    resume: a configuration that already has a finished (or diverged) run in the experiment, with
    exactly these parameters, is not run again, and one that was stopped (Ctrl-C, kill, a restart)
    continues from its checkpoint: a study or sweep re-run with the same command does only the
    rest, and its comparison covers all, in the parent run it made before (its name and grid; it
    goes RUNNING again), not in a new one.
    parent_run_id: continue that sweep's parent run (it goes RUNNING again) instead of starting a
    new one. name: the parent run's name (default <task>-sweep). The parent's choice is the run with
    the lowest validation loss at its kept epoch (every run keeps its lowest-val_loss epoch).
    executor: "local" (one run after another in this process) or "ray" (a Ray Tune trial each, on
    the cluster at `address`, `cpus` and `gpus` reserved per trial; scheduler "asha" stops trials
    whose validation loss falls behind: zoo.cluster).
    Returns a SweepResult; the comparison table and its pictures are logged to the parent.
    """
    configs = [validate(config) for config in configs]  # all checked before anything runs
    if executor not in EXECUTORS:
        raise UserError(f"Invalid executor {executor!r}; valid choices: {', '.join(EXECUTORS)}.")
    if scheduler not in cluster.SCHEDULERS or (scheduler != "fifo" and executor != "ray"):
        raise UserError(f"Invalid scheduler {scheduler!r}; valid choices: fifo, or asha with executor ray.")
    if executor == "ray":
        cluster.check_address(address)  # a cluster that is not there is one line before a parent run exists
    task = configs[0].task
    if any(config.task != task for config in configs):
        raise UserError("A sweep runs configurations of one task; got " +
                        ", ".join(sorted({config.task for config in configs})) + ".")
    varying = {name: sorted({str(getattr(config, name)) for config in configs}) for name in FIELDS}
    varying = {name: values for name, values in varying.items() if len(values) > 1}
    extra = [name for name in varying if joins_variant_name(name)]
    for source in {(config.dataset, config.data_path, config.source): config for config in configs}.values():
        datasets.check(source)  # missing data is one line before a parent run exists
    for config in configs:
        transfer.check(config)  # so is a run to start from that does not fit
    fields = [dataclasses.asdict(config) for config in configs]
    logged = tracking.runs(task) if resume else None
    done = compare.matching(compare.comparable(logged), fields) if resume else {}
    if done:
        print(f"{len(done)} of {len(configs)} configurations already have a finished run in "
              f"{tracking.tracking_uri()}: not run again (runs " +
              ", ".join(row["run_id"][:8] for row in done.values()) + ")", flush=True)
    stopped = compare.matching(resumable(logged), fields) if resume else {}
    results = []
    grid_tag = json.dumps(varying)
    if resume and parent_run_id is None:  # the same sweep again: its parent goes on, not a new one
        parent_run_id = earlier_parent(logged, name or f"{task}-sweep", grid_tag)
    if parent_run_id is not None:
        parent_run = tracking.get_run(parent_run_id)
        if parent_run.data.tags.get("sweep_grid") is None or parent_run.data.params:
            raise UserError(f"MLflow run {parent_run_id} is not a sweep's parent run; pass the id of the "
                            f"<task>-sweep run (python -m zoo compare lists sweeps by experiment).")
    with tracking.start_run(task, name or f"{task}-sweep", tags={"sweep_grid": grid_tag},
                            run_id=parent_run_id) as parent:
        pending = [(i, config) for i, config in enumerate(configs) if i not in done]
        if executor == "ray" and pending:
            stopped_runs = {i: row["run_id"] for i, row in stopped.items()}
            results = cluster.run_trials(pending, parent.run_id, run, extra, stopped_runs, address, cpus, gpus,
                                            scheduler)
        elif executor == "local":
            progress = tqdm(total=len(configs), initial=len(done), desc=f"sweep {name or task}", unit="run",
                            file=sys.stderr, dynamic_ncols=True)  # above each run's Keras bars: runs done, time left
            for i, config in pending:
                print(f"\n== sweep run {i + 1}/{len(configs)}: {task}-{config.variant(extra)}", flush=True)
                try:
                    if i in stopped:  # killed half way: continue it from its checkpoint, as the same run
                        results.append(dataclasses.replace(  # a sweep keeps results, not networks
                            run(config, data=data, nested=True, resume=stopped[i]["run_id"]), model=None))
                    else:
                        results.append(dataclasses.replace(
                            run(config, data=data, nested=True, extra_variant_fields=extra), model=None))
                except UserError as error:  # this child's data or store: the others go on
                    results.append(RunResult("", f"{task}-{config.variant(extra)}", "ERROR", {}, error=str(error)))
                print(results[-1].summary(), flush=True)
                progress.set_postfix(diverged=sum(r.status == "FAILED" for r in results),
                                     errors=sum(r.status == "ERROR" for r in results), refresh=False)
                progress.update(1)
            progress.close()
        table = compare.compare(task, parent_run_id=parent.run_id, configs=fields)
        best = best_by_validation(configs, task)
        if best is not None:  # the choice, on validation data: what a recipe search is for
            config, row, val_loss = best
            name = row["tags.mlflow.runName"]
            parent.set_tags({"best_variant": name, "best_run_id": row["run_id"], "best_val_loss": val_loss})
            parent.log_dict(dataclasses.asdict(config), "best_config.json")
            print(f"best on validation: {name} (val_loss {val_loss:.4g}, MLflow run {row['run_id']})")
    return SweepResult(parent.run_id, results, table)


def earlier_parent(frame, name, grid):
    """The run id of the newest parent run in `frame` (zoo.tracking.runs) named `name` over the
    same grid (tag sweep_grid) whose process is not still running it; None if there is none."""
    if frame.empty or "tags.sweep_grid" not in frame:
        return None
    missing = pd.Series(None, index=frame.index, dtype=object)
    parents = frame[frame.get("tags.mlflow.parentRunId", missing).isna() & frame["tags.sweep_grid"].eq(grid)
                    & frame.get("tags.mlflow.runName", missing).eq(name)]
    parents = parents[parents["status"].ne("RUNNING") | gone(parents)]
    return None if parents.empty else parents.sort_values("start_time")["run_id"].iloc[-1]


def gone(frame):
    """Whether each run of `frame` (zoo.tracking.runs) is RUNNING with its process gone
    (zoo.tracking.process_gone; False where that is unknown: another host, no pid tag)."""
    missing = pd.Series(None, index=frame.index, dtype=object)  # runs logged before the host and pid tags
    return pd.Series([tracking.process_gone(status, host, pid) is True for status, host, pid in
                      zip(frame["status"], frame.get("tags.host", missing), frame.get("tags.pid", missing))],
                     index=frame.index, dtype=bool)


def resumable(frame):
    """The runs of `frame` (zoo.tracking.runs) that were stopped (KILLED, or RUNNING with their
    process gone) and have a checkpoint."""
    if frame.empty:
        return frame
    stopped = frame["status"].eq("KILLED") | gone(frame)
    return frame[stopped & frame["run_id"].map(checkpoints.available)]  # here, or on the tracking server


def validation_losses(configs, experiment):
    """[(run row or None, lowest validation loss)] of the newest run of each of `configs` in the
    store: inf where it has none, it did not finish or it diverged (every run tests the weights of
    its lowest-val_loss epoch, so that is its score)."""
    runs = compare.matching(tracking.runs(experiment), [dataclasses.asdict(config) for config in configs])
    scored = []
    for i in range(len(configs)):
        row = runs.get(i)
        losses = [] if row is None or row["status"] != "FINISHED" else [
            v for v in tracking.metric_history(row["run_id"], "val_loss") if v == v]  # finite only
        scored.append((row, min(losses) if losses else float("inf")))
    return scored


def best_by_validation(configs, experiment):
    """(config, run row, val_loss) of the finished run of `configs` with the lowest validation
    loss at its kept epoch, or None if none finished. Read from the store, so that runs of an
    earlier, resumed sweep count too."""
    scored = [(config, row, loss) for config, (row, loss) in zip(configs, validation_losses(configs, experiment))
              if loss != float("inf")]
    return min(scored, key=lambda item: item[2]) if scored else None
