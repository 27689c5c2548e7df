"""Starting a run from a finished one (zoo.transfer): tiny language models on a slice of real
text (SST-2's first training phrases, a dataset registered here: the whole imdb_sst2_text takes
about 16 s to read and tokenize), then a classifier from them, in one temporary MLflow store for
the module."""

import dataclasses

import keras
import mlflow
import numpy as np
import pytest
import tensorflow as tf

from conftest import copy_store
from zoo import datasets, diagnostics, models, tracking, transfer
from zoo.__main__ import main
from zoo.config import Config
from zoo.data import corpus
from zoo.data.files import data_dir, read_table
from zoo.train import run


def _phrases(dataset, count=6000):
    """A language model's text: SST-2's first `count` training phrases, one per line (labels unused)."""
    return {"all": "\n".join(text for text, _ in read_table(data_dir() / "sst2" / "train.tsv",
                                                           text_column="sentence")[:count])}


PHRASES = datasets.register(datasets.Dataset(
    "sst2_phrases_slice", task="lm", standardize=datasets.DATASETS["imdb_sst2_text"].standardize, local=_phrases,
    prompts=("a film",), source="the first 6,000 of sst2's training phrases (tests/test_transfer.py)"))
LM = Config(task="lm", dataset=PHRASES.name, cell="lstm", units=8, embedding_size=8, limit=40, batch_size=8,
            sequence_length=16, max_vocab=600, epochs=1, flow_samples=1, optimizer="adam", learning_rate=3e-3)
CLASSIFIER = Config(task="sentiment", dataset="sst2", cell="lstm", units=8, embedding_size=8, limit=96,
                    batch_size=32, sequence_length=24, epochs=2, flow_samples=1, optimizer="adam",
                    learning_rate=1e-2, bucketing=False)  # 3 whole batches an epoch, as the tests were written
TEXT = "a moving and funny film about the end of the world"


@pytest.fixture(scope="module")
def lms(tmp_path_factory, empty_store):
    """{"forward": run id, "backward": run id} of two tiny finished language models (the second
    reads its text backwards), in a store of their own (the working directory's default)."""
    folder = tmp_path_factory.mktemp("store")
    copy_store(empty_store, folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        found = {"forward": run(LM).run_id, "backward": run(dataclasses.replace(LM, reverse=True)).run_id}
        yield found


class Watch(keras.callbacks.Callback):
    """Records the network's final state on TEXT (read by `tokenizer`) and the weights of its
    embedding, sequence layer and head at the start and after each epoch."""

    def __init__(self, tokenizer):
        super().__init__()
        self.tokenizer, self.states, self.weights = tokenizer, [], []

    def on_train_begin(self, logs=None):
        net = self.model.net
        ids = self.tokenizer.ids([TEXT]).to_tensor()
        self.states.append(keras.Model(net.inputs, net.get_layer(net.layers[2].name).output)(ids).numpy())
        self.on_epoch_end(-1)

    def on_epoch_end(self, epoch, logs=None):
        net = self.model.net
        self.weights.append({layer.name: [w.copy() for w in layer.get_weights()] for layer in net.layers[1:]})


def source_state(run_id):
    """The source language model's state after reading TEXT (its own ids)."""
    _, tokenizers, net = tracking.load_run(run_id)
    ids = tokenizers["tokens"].ids([TEXT]).to_tensor()
    return keras.Model(net.inputs, net.get_layer("lstm_0").output)(ids).numpy()[:, -1]


def fine_tune(config):
    """(RunResult, Watch) of a run of `config`."""
    data = datasets.load(config)
    watch = Watch(data.tokenizers["tokens"])
    return run(config, data=data, callbacks=[watch]), watch


def test_a_fine_tuned_run_starts_from_the_source_layers_then_trains_the_head_alone(lms, monkeypatch):
    tuned, watch = fine_tune(dataclasses.replace(CLASSIFIER, init_from=lms["forward"], freeze_epochs=1,
                                                 pretrained_lr_scale=0.5))
    assert tuned.status == "FINISHED"
    # its first state on a text is the language model's, though ids differ (its own reserved ids)
    np.testing.assert_allclose(watch.states[0], source_state(lms["forward"]), rtol=1e-5, atol=1e-6)
    fresh, fresh_watch = fine_tune(CLASSIFIER)
    assert not np.allclose(fresh_watch.states[0], watch.states[0], atol=1e-3)
    assert fresh.metrics["test_loss"] != pytest.approx(tuned.metrics["test_loss"], rel=1e-4)

    start, frozen, trained = watch.weights
    for name in ("embedding", "lstm_0"):  # epoch 1 (freeze_epochs=1): the carried layers keep their weights
        for before, after in zip(start[name], frozen[name]):
            np.testing.assert_array_equal(before, after)
        assert any(not np.array_equal(a, b) for a, b in zip(frozen[name], trained[name])), name
    assert not np.array_equal(start["head"][0], frozen["head"][0])  # the head learns from the start

    recorded = mlflow.MlflowClient(tracking.tracking_uri()).get_run(tuned.run_id)
    assert recorded.data.params["init_from"] == lms["forward"]
    assert recorded.data.tags["pretrained"] == lms["forward"]
    assert f"-pretrained{lms['forward'][:8]}-freeze1-lr0.5" in recorded.data.tags["variant"]
    source_models = mlflow.MlflowClient(tracking.tracking_uri()).get_run(lms["forward"]).outputs.model_outputs
    assert [m.model_id for m in recorded.inputs.model_inputs] == [m.model_id for m in source_models]


def test_a_bidirectional_classifier_takes_its_backward_halves_from_a_backward_language_model(lms, capsys):
    config = dataclasses.replace(CLASSIFIER, bidirectional=True, epochs=1, init_from=lms["forward"],
                                 init_from_backward=lms["backward"])
    tuned, watch = fine_tune(config)
    assert tuned.status == "FINISHED"
    _, _, forward = tracking.load_run(lms["forward"])
    _, _, backward = tracking.load_run(lms["backward"])
    ours = watch.weights[0]
    start = ours["bi_lstm_0"]
    half = len(start) // 2
    for mine, theirs in zip(start[:half], forward.get_layer("lstm_0").get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    for mine, theirs in zip(start[half:], backward.get_layer("lstm_0").get_weights()):
        np.testing.assert_array_equal(mine, theirs)

    capsys.readouterr()  # without a backward model, the run says which halves start fresh
    one_way = dataclasses.replace(config, init_from_backward="")
    data = datasets.load(one_way)
    carried = transfer.initialize(models.build(one_way, data), one_way, data.tokenizers["tokens"])
    assert "starting fresh: backward_lstm_0" in capsys.readouterr().out
    assert len(carried) == 1 + 3  # the embedding and the forward LSTM's kernel, recurrent kernel, bias


def test_a_backward_language_model_reads_the_stream_reversed(lms):
    data = datasets.load(dataclasses.replace(LM, reverse=True))
    splits = datasets.splits(LM)[0]
    tokens = data.tokenizers["tokens"]  # the limit's part of the text (corpus.prefix), read backwards
    read = corpus.prefix(splits["train"], tokens, LM.batch_size * (LM.limit * LM.sequence_length + 1))
    ids = tokens.stream(read).numpy()[::-1]
    inputs, targets = next(iter(data.train))
    np.testing.assert_array_equal(inputs.numpy()[0], ids[:LM.sequence_length])
    np.testing.assert_array_equal(targets.numpy()[0], ids[1:LM.sequence_length + 1])


@pytest.mark.parametrize("change, needle", [
    ({"units": 9}, "units differs (that run: 8, this run: 9)"),
    ({"cell": "gru"}, "cell differs (that run: 'lstm', this run: 'gru')"),
    ({"task": "lm", "dataset": "tinyshakespeare"}, "tokenizer level differs (that run: 'word', this run: 'character')"),
    ({"task": "pos", "dataset": "ud_english_ewt"}, "tokenizer standardize differs"),
])
def test_a_mismatch_is_one_line_exit_2_and_logs_nothing(lms, capsys, change, needle):
    config = {**dataclasses.asdict(CLASSIFIER), "init_from": lms["forward"], **change}
    before = {task: len(tracking.runs(task)) for task in ("sentiment", "pos", "lm")}
    capsys.readouterr()
    argv = ["train"] + [arg for name in ("task", "dataset", "cell", "units", "embedding_size", "limit", "init_from")
                        for arg in ("--set", f"{name}={config[name]}")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and needle in err, err
    assert {task: len(tracking.runs(task)) for task in ("sentiment", "pos", "lm")} == before


def test_a_run_that_is_not_finished_or_not_there_is_one_line(lms, capsys):
    assert main(["train", "--set", "task=sentiment", "--set", "dataset=sst2", "--set", "init_from=0123abc"]) == 2
    assert "No MLflow run '0123abc'" in capsys.readouterr().err


def test_pretrained_lr_scale_scales_the_update_and_zero_freezes():
    """SGD: the carried variables move by scale times what the optimizer asks, the others fully."""
    def step(scale):
        keras.utils.set_random_seed(0)
        net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="body"), keras.layers.Dense(1)])
        before = [w.copy() for w in net.get_weights()]
        monitor = diagnostics.GradientMonitor(net, carried=net.get_layer("body").trainable_variables)
        monitor._carried.scale.assign(scale)
        monitor.compile(keras.optimizers.SGD(0.1), loss="mse")
        x = tf.random.stateless_normal((8, 4), seed=(1, 2))
        monitor.train_on_batch(x, tf.ones((8, 1)))
        return [after - b for after, b in zip(net.get_weights(), before)]

    full, half, frozen = step(1.0), step(0.5), step(0.0)
    for d_full, d_half, d_frozen in zip(full[:2], half[:2], frozen[:2]):  # the carried layer
        np.testing.assert_allclose(d_half, 0.5 * d_full, rtol=1e-4, atol=1e-7)
        np.testing.assert_array_equal(d_frozen, 0.0)
    for d_full, d_half in zip(full[2:], half[2:]):  # the rest: the same step
        np.testing.assert_allclose(d_half, d_full, rtol=1e-5)


def test_sampled_softmax_trains_the_full_softmax_language_model(store):
    """Trained on the sampled loss, evaluated on the full softmax: validation falls well below
    the uniform guess log(vocabulary), and training reports no (sampled) perplexity."""
    config = Config(task="lm", dataset="ptb", cell="lstm", units=16, embedding_size=16, limit=30, batch_size=8,
                    sequence_length=16, max_vocab=500, epochs=2, flow_samples=1, optimizer="adam",
                    learning_rate=1e-2, sampled_softmax=32)
    result = run(config)
    assert result.status == "FINISHED"
    assert result.history["val_loss"][-1] < np.log(500) - 0.7
    assert "perplexity" not in result.history and "val_perplexity" in result.history
    with pytest.raises(Exception, match="fewer sampled ids than the 500"):
        run(dataclasses.replace(config, sampled_softmax=500))


def test_a_transfer_study_pretrains_then_compares_the_arms_and_reports_from_its_records(store, script,
                                                                                       monkeypatch):
    """experiments/study.py on a tiny transfer study (one way, one seed): the language model, then
    scratch and pretrained arms, the latter starting from it; its records hold the language models too, and the
    section rendered from the records alone is the one rendered from the store."""
    from zoo import presets, records, report
    from zoo.study import PRETRAINED

    real = presets.STUDIES["sst2-1k-transfer"]
    assert real.arms["lstm-pretrained"]["init_from"] == PRETRAINED and real.base.train_limit == 1000
    tiny = dataclasses.replace(
        real, seeds=(0,),
        base=dataclasses.replace(real.base, train_limit=100, limit=160, epochs=2, patience=0, units=8,
                                 embedding_size=8, flow_samples=1, bidirectional=False),
        pretrain=dataclasses.replace(real.pretrain, dataset=PHRASES.name, limit=4, batch_size=8, sequence_length=16, units=8, embedding_size=8, max_vocab=800,
                                     sampled_softmax=64, xla_evaluation=False, flow_samples=1))
    monkeypatch.setitem(presets.STUDIES, tiny.name, tiny)
    assert script("study").main([tiny.name]) == 0

    models = tracking.runs("lm")
    models = models[models["tags.mlflow.parentRunId"].notna()]
    assert models["params.reverse"].tolist() == ["False"]  # a one-way classifier needs no backward model
    forward = models["run_id"].iloc[0]
    tuned = tracking.runs("sentiment")
    tuned = tuned[tuned["tags.mlflow.parentRunId"].notna()]
    assert sorted(tuned["params.init_from"]) == ["", forward]
    assert set(tuned["params.train_limit"]) == {"100"}

    section = report.report([tiny], store / "results", readme=None)
    rows = records.committed(tiny, store / "results")
    assert sorted(row["role"] for row in rows) == ["grid", "grid", "pretrain"]
    assert "| forward " in section
    assert "| lstm-pretrained − lstm (clip) |" in section
    again = report.report([tiny], store / "results", readme=None, store=False)
    assert again == section


@pytest.mark.cluster
def test_a_ray_sweep_fine_tunes_from_a_run_on_every_trial(store):
    """init_from through the Ray executor: each trial (a worker process) loads the source run from
    the store and starts from it."""
    pytest.importorskip("ray", reason="Ray is not installed: make install")
    source = run(dataclasses.replace(LM, max_vocab=300, limit=6)).run_id
    argv = ["sweep", "--executor", "ray", "--grid", "seed=0,1", "--set", "task=sentiment", "--set", "dataset=sst2",
            "--set", "cell=lstm", "--set", "units=8", "--set", "embedding_size=8", "--set", "limit=64",
            "--set", "epochs=1", "--set", f"init_from={source}"]
    assert main(argv) == 0
    runs = tracking.runs("sentiment")
    runs = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert len(runs) == 2 and set(runs["status"]) == {"FINISHED"} and set(runs["params.init_from"]) == {source}
    assert set(runs["tags.pretrained"]) == {source} and set(runs["tags.vocabulary.kept"]) == {"299"}
