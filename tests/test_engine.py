"""The experiment engine on tiny generated data, in a temporary MLflow store."""

import dataclasses
import json
import warnings

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import zoo.layers  # noqa: F401  (registers the layers for loading logged models)
from test_data import needs_data
from zoo import diagnostics, generate, models, tracking
from zoo.__main__ import main
from zoo.config import FIELDS, Config, apply_overrides, parse_grid
from zoo.data import from_arrays
from zoo.datasets import load
from zoo.errors import UserError
from zoo.train import compiled_monitor, grid, run, sweep

TINY = Config(task="adding", examples=256, sequence_length=12, units=8, epochs=2, batch_size=32,
              flow_samples=2, grad_norm_every=2)


def test_a_run_records_the_whole_schema(store):
    result = run(dataclasses.replace(TINY, clipping="global_norm"))
    assert result.status == "FINISHED"
    client = mlflow.MlflowClient(tracking.tracking_uri())
    recorded = client.get_run(result.run_id)
    assert recorded.info.run_name == "adding-vanilla-tanh-clip1"
    experiment = client.get_experiment(recorded.info.experiment_id)
    assert experiment.name == "adding"  # a training experiment: MLflow's UI opens its runs, not GenAI's overview
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert set(recorded.data.params) == set(FIELDS)  # every configuration field
    assert recorded.data.params["clipping"] == "global_norm"
    tags = recorded.data.tags
    assert len(tags["git_commit"]) >= 40 and tags["version.tensorflow"] and tags["version.keras"]
    assert len(tags["data_sha256"]) == 64 and tags["variant"] == "vanilla-tanh-clip1"

    for key in ("train_loss", "val_loss", "train_mse", "val_mse", "clipped_fraction",
                "spectral_radius/vanilla_0"):
        assert [m.step for m in client.get_metric_history(result.run_id, key)] == [1, 2], key
    grad_norms = client.get_metric_history(result.run_id, "grad_norm")  # every 2 of 8 steps a epoch
    assert [m.step for m in grad_norms] == [2, 4, 6, 8, 10, 12, 14, 16]
    flow = client.get_metric_history(result.run_id, "grad_flow/vanilla_0/epoch0")
    assert [m.step for m in flow] == list(range(12)) and all(m.value > 0 for m in flow)
    for key in ("test_loss", "test_mse", "train_seconds", "tokens_per_sec"):
        assert np.isfinite(recorded.data.metrics[key]), key

    artifacts = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"config.json", "learning_curves.png", "gradient_flow.png"} <= artifacts
    config = json.loads(open(client.download_artifacts(result.run_id, "config.json")).read())
    assert config["clipping"] == "global_norm"

    # the logged model loads, and scores the logged test_mse on the test set
    logged = mlflow.keras.load_model(f"runs:/{result.run_id}/model")
    data = load(TINY)
    x, y = (np.concatenate(parts) for parts in zip(*data.test.as_numpy_iterator()))
    mse = float(np.mean((logged.predict(x, verbose=0) - y) ** 2))
    assert mse == pytest.approx(recorded.data.metrics["test_mse"], rel=1e-4)
    # the run gives back the network it trained (a notebook's next cell), or loads the logged one
    trained, reloaded = result.load_model(), dataclasses.replace(result, model=None).load_model()
    assert trained is result.model
    for net in (trained, reloaded):
        np.testing.assert_allclose(net.predict(x, verbose=0), logged.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_runs_are_repeatable_with_a_seed(store):
    config = dataclasses.replace(TINY, flow_samples=1)
    first, second = run(config), run(config)
    assert first.metrics["test_mse"] == pytest.approx(second.metrics["test_mse"], rel=1e-6)
    other = run(dataclasses.replace(config, seed=1))
    assert other.metrics["test_mse"] != pytest.approx(first.metrics["test_mse"], rel=1e-6)


def test_early_stopping_keeps_the_weights_of_the_best_epoch(store):
    config = Config(task="adding", sequence_length=10, examples=40, units=16, epochs=20, patience=1,
                    learning_rate=0.02, batch_size=8, flow_samples=1)  # 32 examples: overfits at once
    result = run(config)
    val_loss = result.history["val_loss"]
    assert len(val_loss) < config.epochs  # stopped one epoch after the best
    net = mlflow.keras.load_model(f"runs:/{result.run_id}/model")
    net.compile(loss="mse")
    assert net.evaluate(load(config).val, verbose=0) == pytest.approx(min(val_loss), rel=1e-5)


def test_without_early_stopping_every_epoch_runs_and_the_lowest_val_loss_epoch_is_tested(store):
    config = Config(task="adding", sequence_length=10, examples=40, units=16, epochs=6, patience=0,
                    learning_rate=0.05, batch_size=8, flow_samples=1)  # overfits: val_loss rises again
    result = run(config)
    val_loss = result.history["val_loss"]
    assert len(val_loss) == config.epochs  # no early stop
    best = int(np.argmin(val_loss))
    assert best < config.epochs - 1, "the configuration should overfit before its last epoch"
    metrics = mlflow.MlflowClient(tracking.tracking_uri()).get_run(result.run_id).data.metrics
    assert metrics["kept_epoch"] == best + 1
    net = mlflow.keras.load_model(f"runs:/{result.run_id}/model")
    net.compile(loss="mse")
    assert net.evaluate(load(config).val, verbose=0) == pytest.approx(val_loss[best], rel=1e-5)


def test_a_ray_address_where_nothing_answers_is_one_line_in_seconds_before_any_run(store, gone_ray_cluster, capsys):
    """--address HOST:PORT with nothing there, or auto where the last cluster started here is gone:
    one line within cluster.ANSWER_SECONDS, exit code 2, no parent run (Ray's own client retries for
    minutes); a malformed address says what it takes."""
    import time

    from conftest import free_port
    from zoo import cluster

    tiny = ["--grid", "seed=0,1", "--set", "task=adding", "--set", "examples=64", "--set", "epochs=1"]
    started = time.monotonic()
    assert main(["sweep", "--executor", "ray", "--address", f"127.0.0.1:{free_port()}", *tiny]) == 2
    assert time.monotonic() - started < cluster.ANSWER_SECONDS + 30
    err = capsys.readouterr().err
    assert err.startswith("error: Cannot join the Ray cluster at 127.0.0.1:") and "nothing accepts a connection" in err
    assert err.count("\n") == 1
    started = time.monotonic()
    assert main(["sweep", "--executor", "ray", "--address", "auto", *tiny]) == 2
    assert time.monotonic() - started < cluster.ANSWER_SECONDS + 30
    assert capsys.readouterr().err.startswith(f"error: Cannot join the Ray cluster at {gone_ray_cluster}: nothing")
    assert main(["sweep", "--executor", "ray", "--address", "headnode", *tiny]) == 2
    assert "Invalid --address 'headnode'; expected HOST:PORT" in capsys.readouterr().err
    assert tracking.runs("adding").empty  # nothing logged


def test_adding_a_user_to_a_killed_team_server_is_one_line(tmp_path, capsys):
    """`server user add` where server.json is what a killed server left (its process gone): one
    line, exit 2, no request to its address (MLflow's client would retry it), no login written."""
    import json
    import subprocess
    import sys

    from conftest import free_port

    gone = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    gone.wait()
    (tmp_path / "server.json").write_text(json.dumps({"uri": f"http://127.0.0.1:{free_port()}", "pid": gone.pid,
                                                      "auth": True}))
    assert main(["server", "user", "add", "carol", "--permission", "READ", "--folder", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: No tracking server with authentication runs from {tmp_path}; start one with make server.\n"
    assert not (tmp_path / "users").exists()


def test_the_local_ui_is_refused_off_loopback(store, capsys):
    """`make ui HOST=0.0.0.0`: the MLflow UI over the local store has no logins; one line, exit 2."""
    assert main(["ui", "--host", "0.0.0.0"]) == 2
    assert "Refusing to serve the local store on 0.0.0.0" in capsys.readouterr().err


def test_a_sweep_is_a_parent_with_one_child_per_combination(store):
    configs = grid(dataclasses.replace(TINY, epochs=1, flow_samples=1), {"cell": ["vanilla", "gru"], "seed": [0, 1]})
    done = sweep(configs)
    results, table = done.results, done.table
    assert [r.status for r in results] == ["FINISHED"] * 4
    frame = tracking.runs("adding")
    parents = frame[frame["tags.mlflow.parentRunId"].isna()]
    assert len(parents) == 1 and parents.iloc[0]["tags.mlflow.runName"] == "adding-sweep"
    assert parents.iloc[0]["run_id"] == done.run_id
    children = tracking.runs("adding", parent_run_id=parents.iloc[0]["run_id"])
    assert sorted(zip(children["params.cell"], children["params.seed"])) == [
        ("gru", "0"), ("gru", "1"), ("vanilla", "0"), ("vanilla", "1")]
    assert children["params.units"].eq("8").all()  # every param on every child
    assert set(table["variant"]) == {"vanilla-tanh-noclip", "gru-noclip"}
    assert table["runs"].tolist() == [2, 2] and table["diverged"].tolist() == [0, 0]
    assert table["test_mse_std"].notna().all()
    client = mlflow.MlflowClient(tracking.tracking_uri())
    artifacts = {a.path for a in client.list_artifacts(parents.iloc[0]["run_id"])}
    assert {"comparison.csv", "comparison.md", "comparison.png", "val_loss_curves.png", "best_config.json"} <= artifacts
    # the parent records the choice on validation data: the child with the lowest final val_loss
    lowest = min(results, key=lambda r: r.history["val_loss"][-1])
    tags = client.get_run(done.run_id).data.tags
    assert tags["best_run_id"] == lowest.run_id and tags["best_variant"] == lowest.name
    assert float(tags["best_val_loss"]) == pytest.approx(lowest.history["val_loss"][-1])
    again = sweep(configs)  # the same sweep again: nothing left to train, and its parent goes on
    assert again.run_id == done.run_id and again.results == [] and len(again.table) == 2
    frame = tracking.runs("adding")
    assert len(frame) == 5 and frame["status"].eq("FINISHED").all()  # one parent, four children
    assert len(sweep(configs[:2]).table) == 1 and len(tracking.runs("adding")) == 6  # another grid: a parent of its own


EXPLODING = dataclasses.replace(TINY, activation="relu", recurrent_initializer="identity",
                                spectral_radius=1.5, optimizer="sgd", learning_rate=1e3)


def test_divergence_ends_failed_with_the_step_and_the_other_runs_go_on(store, capsys):
    done = sweep(grid(EXPLODING, {"learning_rate": [1e3, 1e-3]}))
    results, table = done.results, done.table
    diverged, finished = results
    assert diverged.status == "FAILED" and finished.status == "FINISHED"
    recorded = mlflow.MlflowClient(tracking.tracking_uri()).get_run(diverged.run_id)
    assert recorded.info.status == "FAILED"
    assert int(recorded.data.tags["nan_step"]) == diverged.nan_step >= 1
    assert f"at training step {diverged.nan_step}" in recorded.data.tags["nan_cause"]
    assert table.set_index("variant")["diverged"].to_dict() == {
        "vanilla-relu-identity1.5-noclip-learning_rate1000.0": 1,
        "vanilla-relu-identity1.5-noclip-learning_rate0.001": 0}

    capsys.readouterr()
    code = main(["train"] + [f"--set={k}={v}" for k, v in dataclasses.asdict(EXPLODING).items()
                             if v is not None])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 1 and out[-1].startswith("run adding-vanilla-relu-identity1.5-noclip diverged: ")


@pytest.mark.parametrize("clipping", ["global_norm", "norm", "value"])
def test_clipping_bounds_the_applied_update(clipping):
    keras.utils.set_random_seed(0)
    config = dataclasses.replace(EXPLODING, learning_rate=1.0, clipping=clipping, clip_threshold=0.5)
    data = load(config)
    net = models.build(config, data)
    monitor = diagnostics.GradientMonitor(net)  # detects the optimizer's own clipping
    monitor.compile(models.optimizer(config), loss="mse")
    x, y = next(iter(data.train))
    before = [w.numpy() for w in net.trainable_weights]
    logs = monitor.train_on_batch(x, y, return_dict=True)
    updates = [w.numpy() - b for w, b in zip(net.trainable_weights, before)]
    assert logs["grad_norm"] > 0.5 and logs["clipped_fraction"] == 1.0  # clipping did act
    if clipping == "global_norm":  # SGD with lr 1: the update is the clipped gradient
        assert np.sqrt(sum(np.sum(u ** 2) for u in updates)) <= 0.5 * (1 + 1e-5)
    elif clipping == "norm":
        assert max(np.linalg.norm(u) for u in updates) <= 0.5 * (1 + 1e-5)
    else:
        assert max(np.abs(u).max() for u in updates) <= 0.5 * (1 + 1e-6)


def test_clipped_fraction_is_zero_when_clipping_never_acts():
    keras.utils.set_random_seed(0)
    config = dataclasses.replace(TINY, clipping="global_norm", clip_threshold=1e6)
    data = load(config)
    monitor = diagnostics.GradientMonitor(models.build(config, data))
    monitor.compile(models.optimizer(config), loss="mse")
    logs = monitor.train_on_batch(*next(iter(data.train)), return_dict=True)
    assert logs["clipped_fraction"] == 0.0 and 0 < logs["grad_norm"] < 1e6


def test_spectral_radius_of_a_known_matrix():
    inputs = keras.Input((5, 3))
    net = keras.Model(inputs, zoo.layers.VanillaRNN(3)(inputs))
    kernel = np.array([[0.3, 4.0, 1.0], [0.0, -1.7, 2.0], [0.0, 0.0, 0.9]], "float32")  # triangular
    net.layers[1].cell.recurrent_kernel.assign(kernel)
    logs = {}
    diagnostics.SpectralRadius(net).on_epoch_end(0, logs)
    assert logs == {"spectral_radius/vanilla_rnn": pytest.approx(1.7, rel=1e-6)}
    assert np.isnan(diagnostics.spectral_radius(np.full((2, 2), np.nan)))  # a diverged layer


def test_spectral_norm_is_the_largest_singular_value_not_the_radius():
    shear = np.array([[1.0, 3.0], [0.0, 1.0]])  # both eigenvalues 1, but it stretches (1, 1) by more
    assert diagnostics.spectral_radius(shear) == pytest.approx(1.0)
    assert diagnostics.spectral_norm(shear) == pytest.approx((3 + np.sqrt(13)) / 2)  # sqrt of A^T A's top eigenvalue
    assert np.isnan(diagnostics.spectral_norm(np.full((2, 2), np.inf)))


def token_data(task, vocab=20, classes=3, n=64, length=9, seed=0):
    """Random token ids with right padding (id 0), for the token topologies."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, vocab, size=(n, length)).astype("int32")
    lengths = rng.integers(3, length + 1, size=n)
    if task != "lm":
        x[np.arange(length)[None, :] >= lengths[:, None]] = 0
    y = {"sentiment": rng.integers(0, classes, size=n),
         "pos": np.where(x > 0, x % classes, 0), "lm": np.roll(x, -1, axis=1)}[task].astype("int32")
    outputs = {"sentiment": classes, "pos": classes, "lm": vocab}[task]
    split = (x[:40], y[:40]), (x[40:52], y[40:52]), (x[52:], y[52:])
    return from_arrays(*split, batch_size=16, seed=seed, input_shape=(None,), vocab_size=vocab,
                       num_outputs=outputs)


def test_tagger_excludes_padding_from_loss_and_accuracy():
    config = Config(task="pos", dataset="custom", units=8, embedding_size=8)
    data = token_data("pos")
    net = models.build(config, data)
    loss, metrics = models.loss_and_metrics(config)
    net.compile(models.optimizer(config), loss=loss, metrics=metrics)
    x, y = next(iter(data.test))
    x, y = x.numpy(), y.numpy()
    result = net.evaluate(x, y, return_dict=True, verbose=0)
    logits = net.predict(x, verbose=0)
    real = x > 0
    assert (~real).any()
    accuracy = np.mean(logits.argmax(-1)[real] == y[real])
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    cross_entropy = -np.take_along_axis(log_probs, y[..., None], -1)[..., 0][real].mean()
    assert result["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert result["loss"] == pytest.approx(cross_entropy, rel=1e-5)


def test_language_model_perplexity_is_exp_of_mean_cross_entropy():
    config = Config(task="lm", dataset="custom", units=8, embedding_size=8, cell="lstm")
    data = token_data("lm")
    net = models.build(config, data, stateful=False)
    loss, metrics = models.loss_and_metrics(config)
    monitor = diagnostics.GradientMonitor(net, perplexity=True)
    monitor.compile(models.optimizer(config), loss=loss, metrics=metrics)
    history = monitor.fit(data.train, epochs=1, verbose=0).history
    assert history["perplexity"][0] == pytest.approx(np.exp(history["loss"][0]), rel=1e-5)
    result = monitor.evaluate(data.test, return_dict=True, verbose=0)
    cross_entropy = []
    for x, y in data.test.as_numpy_iterator():  # by hand: every token of every test batch
        log_probs = generate.log_softmax(np.asarray(net(x), dtype="float64"))
        cross_entropy.append(-np.take_along_axis(log_probs, y[..., None], -1)[..., 0].ravel())
    assert result["perplexity"] == pytest.approx(np.exp(np.concatenate(cross_entropy).mean()), rel=1e-4)


@pytest.mark.parametrize("cell", ["tcn", "lstm"])
def test_language_model_generates_from_a_prompt_shorter_than_its_window(cell):
    """The stateless network of a language model (what generate, score and the report use) reads
    any length: a causal convolution stack (tcn) too, not only the recurrent cells."""
    from zoo.data.pipelines import from_arrays
    from zoo.text import Tokenizer

    tokenizer = Tokenizer(length=9).adapt(["the cat sat on the mat", "a dog ran in the park"])
    ids = np.tile(np.arange(1, 10, dtype="int32"), (16, 1)) % 12
    data = from_arrays((ids, ids), (ids, ids), (ids, ids), batch_size=8, seed=0, input_shape=(9,),
                       vocab_size=12, num_outputs=12)  # windows of 9, as the language model trains on
    net = models.build(Config(task="lm", dataset="custom", units=8, embedding_size=8, cell=cell), data,
                       stateful=False)
    assert net.input_shape == (None, None)
    words = generate.generate(net, tokenizer, "the cat", 5).split()
    assert words[:2] == ["the", "cat"] and len(words) >= 3


def test_sparse_cross_entropy_has_the_value_and_gradient_of_keras_loss():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 50, size=(4, 7))
    logits = tf.constant(rng.normal(size=(4, 7, 50)).astype("float32") * 3)
    reference = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for weights in (None, rng.random((4, 7)).astype("float32")):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(logits)
            ours = models.SparseCrossEntropy()(labels, logits, sample_weight=weights)
            theirs = reference(labels, logits, sample_weight=weights)
        assert float(ours) == pytest.approx(float(theirs), rel=1e-6)
        np.testing.assert_allclose(tape.gradient(ours, logits), tape.gradient(theirs, logits), atol=1e-7)


def test_language_model_speed_settings_keep_the_numbers():
    """unroll, xla_evaluation, evaluation_steps_per_execution and SparseCrossEntropy change how the
    LM's steps run, not their results (training, validation in fit, evaluate)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, size=(80, 9)).astype("int32")
    y = np.roll(x, -1, axis=1)
    results = {}
    for fast in (False, True):  # the same seeds, new pipelines: the shuffle order depends on the pass
        keras.utils.set_random_seed(0)
        data = from_arrays((x[:32], y[:32]), (x[32:], y[32:]), (x[32:], y[32:]), batch_size=16, seed=0,
                           input_shape=(9,), vocab_size=20, num_outputs=20)  # 3 evaluation batches
        assert not data.train.options().autotune.enabled  # zoo.data.prefetched
        config = Config(task="lm", dataset="custom", cell="lstm", layers=2, units=8, embedding_size=8,
                        batch_size=16, sequence_length=9, optimizer="sgd", learning_rate=1.0,
                        clipping="global_norm", unroll=fast, xla_evaluation=fast,
                        evaluation_steps_per_execution=2 if fast else 1)  # 2 + 1 batches per pass
        net = models.build(config, data)
        assert all(layer.unroll == fast and layer.stateful for layer in diagnostics.recurrent_layers(net))
        if fast:
            monitor = compiled_monitor(config, net)
        else:  # Keras's own loss, loop and graph-mode evaluation
            monitor = diagnostics.GradientMonitor(net, perplexity=True)
            monitor.compile(models.optimizer(config), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = monitor.fit(data.train, validation_data=data.val, epochs=2, verbose=0).history
            evaluation = monitor.evaluate(data.test, return_dict=True, verbose=0)
        assert not [w for w in caught if "ran out of data" in str(w.message)]  # the batches per call add up
        assert monitor.steps_per_execution == 1  # training: one step per call
        results[fast] = history, evaluation, net.get_weights()
        stateless = models.build(config, data, stateful=False)  # generation and export: any length
        assert not any(layer.unroll for layer in diagnostics.recurrent_layers(stateless))
    (history, evaluation, weights), (fast_history, fast_evaluation, fast_weights) = results.values()
    for key in ("loss", "perplexity", "grad_norm", "val_loss", "val_perplexity"):
        np.testing.assert_allclose(fast_history[key], history[key], rtol=1e-5)
    for key in ("loss", "perplexity"):
        assert fast_evaluation[key] == pytest.approx(evaluation[key], rel=1e-5)
    for fast_weight, weight in zip(fast_weights, weights):
        np.testing.assert_allclose(fast_weight, weight, atol=1e-5)


def test_xla_training_compiles_the_training_step_with_xla_and_keeps_the_numbers():
    """xla_training=True: the training step is compiled with XLA (Keras's "auto" is off on a CPU),
    and the tcn language model trains to the same losses and weights as without it; the speed
    settings never enter a variant name."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, size=(48, 9)).astype("int32")
    y = np.roll(x, -1, axis=1)
    results = {}
    for xla in (False, True):
        keras.utils.set_random_seed(0)
        data = from_arrays((x[:32], y[:32]), (x[32:], y[32:]), (x[32:], y[32:]), batch_size=16, seed=0,
                           input_shape=(9,), vocab_size=20, num_outputs=20)
        config = Config(task="lm", dataset="custom", cell="tcn", layers=2, units=8, embedding_size=8,
                        batch_size=16, sequence_length=9, optimizer="adam", learning_rate=1e-2,
                        clipping="global_norm", xla_training=xla)
        net = models.build(config, data)
        monitor = compiled_monitor(config, net)
        history = monitor.fit(data.train, validation_data=data.val, epochs=2, verbose=0).history
        if xla:  # without, Keras's "auto": off on a CPU, on where TensorFlow sees a GPU
            assert monitor.jit_compile is True
        results[xla] = history, net.get_weights()
    (history, weights), (xla_history, xla_weights) = results[False], results[True]
    assert config.variant(["xla_training", "learning_rate"]) == "tcn-clip1-learning_rate0.01"
    assert history["loss"][-1] < history["loss"][0]  # it trained
    for key in ("loss", "grad_norm", "val_loss"):
        np.testing.assert_allclose(xla_history[key], history[key], rtol=1e-4)
    for xla_weight, weight in zip(xla_weights, weights):
        np.testing.assert_allclose(xla_weight, weight, atol=1e-4)


@pytest.mark.parametrize("cell,pooling,bidirectional", [("gru", "mean", True), ("lstm", "last", False),
                                                        ("vanilla_keras", "last", True)])
def test_classifier_topologies_train_and_report_gradient_flow(cell, pooling, bidirectional):
    config = Config(task="sentiment", dataset="custom", cell=cell, pooling=pooling, layers=2,
                    bidirectional=bidirectional, units=8, embedding_size=8, epochs=1)
    data = token_data("sentiment")
    net = models.build(config, data)
    loss, metrics = models.loss_and_metrics(config)
    x, y = next(iter(data.train))
    assert net(x).shape == (16, 3)
    flow = diagnostics.gradient_flow(net, x, y, loss)
    assert len(flow) == 2 * (1 + bidirectional)  # every layer, both directions
    for norms in flow.values():
        assert norms.shape == (9,) and np.all(np.isfinite(norms)) and np.all(norms >= 0)


def test_mean_pooling_of_an_all_padding_text_is_finite():
    config = Config(task="sentiment", dataset="custom", cell="lstm", pooling="mean", units=8, embedding_size=8)
    net = models.build(config, token_data("sentiment"))
    x = np.array([[3, 4, 0, 0, 0, 0, 0, 0, 0], [0] * 9], dtype="int32")  # an empty text: padding only
    logits = np.asarray(net(x))
    assert np.all(np.isfinite(logits))
    states = keras.Model(net.input, net.get_layer("lstm_0").output)(x[:1])  # the mean of the 2 real steps
    np.testing.assert_allclose(net.get_layer("mean_over_time")(states, mask=x[:1] > 0), np.mean(states[:, :2], axis=1),
                               rtol=1e-6)


def test_config_overrides_parse_types_and_reject_bad_values():
    config = apply_overrides(Config(), ["units=256", "clipping=global_norm", "bptt_steps=5",
                                        "bidirectional=true", "learning_rate=0.5"])
    assert (config.units, config.clipping, config.bptt_steps, config.bidirectional,
            config.learning_rate) == (256, "global_norm", 5, True, 0.5)
    assert apply_overrides(config, ["bptt_steps=none"]).bptt_steps is None
    assert parse_grid(["cell=vanilla,gru", "seed=0,1"]) == {"cell": ["vanilla", "gru"], "seed": [0, 1]}
    bad = {
        "cell=rnn": "valid choices: vanilla, vanilla_keras, gru, lstm, tcn",
        "task=translation": "valid choices: adding, copy, sentiment, pos, lm",
        "colour=red": "valid fields:",
        "units=many": "expected an integer",
        "units=0": "expected an integer >= 1",
        "clipping=sometimes": "valid choices: none, value, norm, global_norm",
        "char_features=8": "character features are built for task=pos only",
        "char_encoder=gru": "Invalid char_encoder 'gru'; valid choices: cnn, bilstm",
        "word_dropout=1": r"Invalid word_dropout 1.0; expected a value in \[0, 1\)",
        "word_dropout=0.2": "Invalid word_dropout with task 'adding': it reads features, not tokens",
        "learning_rate=nan": "Invalid learning_rate nan; expected a finite number",
        "clip_threshold=inf": "Invalid clip_threshold inf; expected a finite number",
        "units=100000000": "expected at most 8,192",
    }
    for assignment, needle in bad.items():
        with pytest.raises(UserError, match=needle):
            apply_overrides(Config(), [assignment])
    with pytest.raises(UserError, match="Invalid activation 'relu' for cell 'lstm'; valid choices: tanh"):
        apply_overrides(Config(), ["cell=lstm", "activation=relu"])
    with pytest.raises(UserError, match="Invalid recurrent_initializer 'identity' for cell 'tcn'; valid choices"):
        apply_overrides(Config(), ["cell=tcn", "recurrent_initializer=identity"])
    with pytest.raises(UserError, match="clip_threshold"):
        apply_overrides(Config(), ["clipping=norm", "clip_threshold=0"])
    with pytest.raises(UserError, match="truncated BPTT is implemented by cell=vanilla only"):
        apply_overrides(Config(), ["cell=gru", "bptt_steps=3"])


@pytest.mark.parametrize("argv", [
    ["train", "--set", "cell=lstm", "--set", "activation=relu"],
    ["train", "--set", "clipping=global_norm", "--set", "clip_threshold=-1"],
    ["train", "--set", "units=lots"],
    ["train", "--set", "dataset=imdb"],
    ["sweep", "--grid", "cell=vanilla,rnn"],
    ["sweep", "--set", "epochs=1"],
])
def test_invalid_configurations_exit_2_with_one_line_and_log_nothing(workdir, capsys, argv):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert not (workdir / "mlruns").exists()  # no store, no run


def test_copy_task_with_the_causal_conv_stack(store):
    config = dataclasses.replace(TINY, task="copy", dataset="copy", cell="tcn", epochs=1)
    result = run(config)
    assert result.status == "FINISHED" and 0.0 <= result.metrics["test_accuracy"] <= 1.0
    recorded = mlflow.MlflowClient(tracking.tracking_uri()).get_run(result.run_id)
    assert recorded.info.run_name == "copy-tcn-noclip"
    artifacts = {a.path for a in mlflow.MlflowClient(tracking.tracking_uri()).list_artifacts(result.run_id)}
    assert "learning_curves.png" in artifacts and "gradient_flow.png" not in artifacts  # not recurrent
    with pytest.raises(UserError, match="cell 'tcn': it reads left to right only"):
        apply_overrides(config, ["bidirectional=true"])


def test_count_baselines_on_hand_counted_data():
    from zoo import tasks

    ones = lambda *rows: np.array(rows, "int32")  # noqa: E731
    labels = from_arrays((ones([1], [2], [3]), ones(1, 1, 0)), (ones([1]), ones(1)), (ones([1], [2]), ones(1, 0)),
                         batch_size=2, seed=0, num_outputs=2)
    assert tasks.get("sentiment").count_baseline(labels) == 0.5  # the majority, 1, is right once of twice
    # words 1, 2, 3 (0 pads); tags 1, 2. Word 1 -> tag 1 (twice), word 2 -> tag 2 (twice of three times)
    tagged = from_arrays((ones([1, 1, 2, 2, 2, 0]), ones([1, 1, 2, 2, 1, 0])), (ones([1]), ones([1])),
                         (ones([1, 2, 3, 3, 0]), ones([1, 2, 1, 2, 0])), batch_size=1, seed=0, vocab_size=4,
                         num_outputs=3)
    # word 3 is unseen: it gets the overall most frequent tag, 1 (3 of 5 times), right once of twice
    assert tasks.get("pos").count_baseline(tagged) == 0.75
    stream = from_arrays((ones([1, 1, 2]), ones([1, 2, 0])), (ones([1]), ones([1])), (ones([0, 0]), ones([1, 2])),
                         batch_size=1, seed=0, vocab_size=3, num_outputs=3)
    # add-one over ids 0, 1, 2 of the inputs 1, 1, 2: p = 1/6, 3/6, 2/6; test targets 1, 2
    assert tasks.get("lm").count_baseline(stream) == pytest.approx(np.exp(-(np.log(3 / 6) + np.log(2 / 6)) / 2))


@pytest.mark.parametrize("encoder, size", [("cnn", 4), ("bilstm", 8)])
def test_character_features_do_not_depend_on_padding(encoder, size):
    layer = models.CharacterFeatures(characters=10, filters=4, encoder=encoder)
    word = np.array([[[3, 4, 5, 0]]], "int32")  # one sentence, one word of 3 characters
    longer = np.concatenate([word, np.zeros((1, 1, 16), "int32")], axis=-1)  # padded to 20
    exact = word[..., :3]  # not padded at all: the convolution's own zero padding
    features = layer(word).numpy()
    assert features.shape == (1, 1, size) and np.abs(features).sum() > 0
    assert encoder != "cnn" or (features >= 0).all()  # ReLU, then the maximum
    padding_word = np.array([[[3, 4, 5, 0], [0, 0, 0, 0]]], "int32")  # a padded position of the sentence
    np.testing.assert_allclose(layer(padding_word).numpy()[0, 1], 0)
    np.testing.assert_allclose(layer(padding_word).numpy()[0, 0], features[0, 0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(layer(longer).numpy(), features, rtol=1e-6)
    np.testing.assert_allclose(layer(exact).numpy(), features, rtol=1e-6)
    assert not np.allclose(layer(np.array([[[3, 4, 6, 0]]], "int32")).numpy(), features)  # a different word


def varied_treebank(tmp_path):
    """A CoNLL-U file of 40 sentences of 2 to 6 words (DET NOUN VERB ...)."""
    rng = np.random.default_rng(0)
    words = {"DET": ["the", "a"], "NOUN": ["film", "cat", "plot"], "VERB": ["ran", "sat"]}
    sentences = []
    for i in range(40):
        tags = [["DET", "NOUN", "VERB"][k % 3] for k in range(2 + i % 5)]
        lines = [f"{k + 1}\t{rng.choice(words[t])}\t_\t{t}\t_\t_\t0\tdep\t_\t_" for k, t in enumerate(tags)]
        sentences.append("\n".join(lines) + "\n")
    treebank = tmp_path / "varied.conllu"
    treebank.write_text("\n".join(sentences))
    return treebank


def test_tagging_with_character_features_leaves_padding_out_of_the_metrics(tmp_path):
    """Keras's accuracy equals the accuracy counted by hand over real words only (sentences of 2
    to 6 words, so every batch has padding)."""
    from zoo.tasks.tagging import tagging_report

    treebank = varied_treebank(tmp_path)
    config = Config(task="pos", dataset="user", data_path=str(treebank), batch_size=4, units=8, embedding_size=8,
                    epochs=1, char_features=4, cell="gru")
    data = load(config)
    monitor = compiled_monitor(config, models.build(config, data))
    accuracy = monitor.evaluate(data.test, return_dict=True, verbose=0)["accuracy"]
    _, matrix = tagging_report(monitor.net, data)
    assert (next(iter(data.test))[1].numpy() == 0).any()  # padding in the test batches
    assert accuracy == pytest.approx(np.trace(matrix) / matrix.sum(), abs=1e-6)


def test_word_dropout_zeroes_whole_word_vectors_in_training_only(tmp_path):
    config = Config(task="pos", dataset="user", data_path=str(varied_treebank(tmp_path)), batch_size=40, units=8,
                    embedding_size=8, epochs=1, char_features=4, word_dropout=0.5, bucketing=False)  # one batch
    data = load(config)
    net = models.build(config, data)
    words = next(iter(data.train))[0][0]
    dropped = keras.Model(net.inputs[0], net.get_layer("word_dropout").output)
    real = words.numpy() > 0
    trained, inferred = dropped(words, training=True).numpy(), dropped(words, training=False).numpy()
    zero = (trained == 0).all(-1)
    assert ((trained != 0).all(-1) | zero).all()  # a word keeps all of its vector or none of it
    assert 0.3 < zero[real].mean() < 0.7  # about half the real words, with 40 sentences' words
    np.testing.assert_allclose(trained[~zero & real], 2 * inferred[~zero & real], rtol=1e-6)  # kept: scaled
    assert not (inferred[real] == 0).all(-1).any()  # at inference every word keeps its vector


def test_compare_tells_apart_runs_logged_before_a_field_existed_from_those_set_otherwise():
    from zoo.compare import labelled

    frame = pd.DataFrame({"tags.variant": ["lstm"] * 4, "params.seed": ["0", "1", "0", "1"],
                          "params.word_dropout": [None, None, "0.25", "0.25"]})  # the first two: before the field
    frame, differing = labelled(frame)
    assert differing == ["word_dropout"]
    assert frame["variant"].tolist() == ["lstm-word_dropout0.0"] * 2 + ["lstm-word_dropout0.25"] * 2
    same, differing = labelled(frame.assign(**{"params.word_dropout": [None, "0.0", None, "0.0"]}))
    assert differing == [] and set(same["variant"]) == {"lstm"}  # missing is the default: pooled
    faster, differing = labelled(frame.assign(**{"params.word_dropout": [None] * 4,
                                                  "params.xla_training": ["False", "True", None, "True"]}))
    assert differing == [] and set(faster["variant"]) == {"lstm"}  # a speed setting is not a variant


def test_compare_pools_seeds_only_and_leaves_out_runs_that_did_not_finish(store):
    from zoo.compare import compare

    base = dataclasses.replace(TINY, epochs=1, flow_samples=1)
    for units in (4, 8):  # two sweeps: every child is named vanilla-tanh-noclip, but units differ
        sweep(grid(dataclasses.replace(base, units=units), {"seed": [0, 1]}))
    assert set(tracking.runs("adding")["tags.variant"].dropna()) == {"vanilla-tanh-noclip"}
    with tracking.start_run("adding", "orphan", params=dataclasses.asdict(base), tags={"variant": "vanilla-tanh-noclip"}):
        pass  # a run that ended without metrics, as if killed: FINISHED is set below to KILLED
    orphan = tracking.runs("adding").query("`tags.mlflow.runName` == 'orphan'")["run_id"].iloc[0]
    mlflow.MlflowClient(tracking.tracking_uri()).set_terminated(orphan, "KILLED")
    table = compare("adding")
    assert sorted(table["variant"]) == ["vanilla-tanh-noclip-units4", "vanilla-tanh-noclip-units8"]
    assert table["runs"].tolist() == [2, 2]  # two seeds each; the killed run is not counted


@needs_data
def test_mixed_precision_computes_in_float16_and_reports_the_unscaled_gradient(store):
    """Keras's mixed_float16 policy (float32 weights and logits), the loss scaled by a
    LossScaleOptimizer; grad_norm is the unscaled one: the first step's is the float32 run's, not
    2**15 times it."""
    config = Config(task="sentiment", dataset="sst2", limit=200, sequence_length=30, embedding_size=16, units=16,
                    epochs=1, cell="lstm", batch_size=32, clipping="global_norm", grad_norm_every=1, flow_samples=2)
    norms = {}
    for mixed in (False, True):
        result = run(dataclasses.replace(config, mixed_precision=mixed))
        assert result.status == "FINISHED"
        history = mlflow.MlflowClient(tracking.tracking_uri()).get_metric_history(result.run_id, "grad_norm")
        norms[mixed] = sorted(history, key=lambda m: m.step)[0].value
    net = result.load_model()
    assert (net.get_layer("lstm_0").compute_dtype, net.get_layer("lstm_0").variable_dtype) == ("float16", "float32")
    assert net.get_layer("head").compute_dtype == "float32" and net.output.dtype == "float32"
    assert norms[True] == pytest.approx(norms[False], rel=0.05)
    with pytest.raises(UserError, match="Invalid mixed_precision=true with cell 'vanilla' .* it needs cell "
                                        "vanilla_keras, gru, lstm and the full softmax"):
        run(dataclasses.replace(config, cell="vanilla", mixed_precision=True))


def test_a_last_save_cut_short_by_a_kill_resumes_from_the_save_before_it(tmp_path, monkeypatch, capsys):
    """kill -9 during save_weights leaves the weights file without its tail (seen in CI: h5py's
    RuntimeError, which Keras's own fallback does not catch; HDF5 then rereads the broken file by
    its inode): the restore takes the save before it, as a new file."""
    import keras

    from zoo import checkpoints

    monkeypatch.setenv("ZOO_CHECKPOINT_DIR", str(tmp_path))

    def model():
        net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
        net.compile(optimizer="adam", loss="mse")
        net.optimizer.build(net.trainable_variables)
        return net

    saver = checkpoints.Checkpoint("run", 0, None, None)
    saver.set_model(model())
    saver._save_model()
    before = [w.copy() for w in saver.model.get_weights()]
    saver.model.layers[0].kernel.assign(saver.model.layers[0].kernel + 1.0)
    saver._current_epoch = 1
    saver._save_model()  # the previous save becomes latest.weights.h5.bkp
    weights = tmp_path / "run" / "latest.weights.h5"
    weights.write_bytes(weights.read_bytes()[:-2400])  # the tail a kill during the write leaves out
    restorer = checkpoints.Checkpoint("run", 0, None, None)
    restorer.set_model(model())
    load, calls = restorer.model.load_weights, []

    def load_weights(path):  # the error CI saw for such a file (this truncation gives h5py's OSError)
        calls.append(path)
        if len(calls) == 1:
            raise RuntimeError("Can't get deprecated info for object (addr overflow, addr = 6144, eoa = 2048)")
        return load(path)

    monkeypatch.setattr(restorer.model, "load_weights", load_weights)
    restorer.on_train_begin()
    assert len(calls) == 2
    assert "continuing from the save before it" in capsys.readouterr().out
    for restored, saved in zip(restorer.model.get_weights(), before):
        np.testing.assert_array_equal(restored, saved)
    assert restorer.model._initial_epoch == 0  # the epoch of that save
