"""Exports of finished runs: a raw-text SavedModel that TensorFlow alone loads, model.keras,
the registered MLflow model, HTTP serving, bad input, and bad run ids."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from conftest import copy_store
from test_data import needs_data, user_files
from zoo import datasets, export, generate, models, serving, tracking
from zoo.cells import CELLS
from zoo.tasks.tagging import MAX_TOKENS
from zoo.__main__ import main
from zoo.config import Config
from zoo.train import run

TEXTS = {
    "sentiment": ["good great film, really", "awful dull<br />the film", "", "x " * 50_000, "sehr gut, très bon 好"],
    "pos": ["the good film", "", "the film " * 50_000, "le très bon 好 film", "film"],
    "lm": ["the good film was", "", "the film " * 50_000, "très bon 好", "a"],
}
STRINGS = ["Good FILM<br />the end, really!", "", "the the film was a film", "très bon 好", "a\nb c"]
TINY = dict(units=8, embedding_size=8, epochs=1, flow_samples=1, seed=0)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, empty_store):
    """{task: export folder} of one tiny run per task on a user's files, in a fresh store."""
    folder = tmp_path_factory.mktemp("exports")
    copy_store(empty_store, folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        reviews, treebank, corpus = user_files(folder)
        configs = {"sentiment": Config(task="sentiment", dataset="user", data_path=str(reviews),
                                       sequence_length=6, batch_size=8, cell="gru", **TINY),
                   "pos": Config(task="pos", dataset="user", data_path=str(treebank), batch_size=4,
                                 cell="vanilla", bidirectional=True, char_features=4, **TINY),
                   "lm": Config(task="lm", dataset="user", data_path=str(corpus), sequence_length=5,
                                batch_size=4, cell="lstm", layers=2, **TINY)}
        paths = {}
        for task, config in configs.items():
            result = run(config)
            assert main(["export", "--run", result.run_id]) == 0
            paths[task] = folder / "exports" / task / result.run_id
        yield folder, paths


def in_memory(path, texts):
    """Predictions of the exported run's Keras network, its tokenizer run eagerly."""
    config = json.loads((path / "config.json").read_text())
    net = keras.saving.load_model(path / "model.keras")
    return export.exporting(config["task"]).predict(net, config, export.tokenizers_of(path), texts, k=3)


def assert_same(expected, got):
    assert len(expected) == len(got)
    for want, have in zip(expected, got):
        assert set(want) == set(have)
        for key, value in want.items():
            if key in ("probability", "probabilities"):
                np.testing.assert_allclose(have[key], value, rtol=0, atol=1e-6)
            else:
                assert list(have[key]) == list(value) if isinstance(value, list) else have[key] == value


LOAD_WITH_TENSORFLOW_ONLY = """
import json, sys
import tensorflow as tf

path, task, texts = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())
serve = tf.saved_model.load(path).signatures["serving_default"]
batch = tf.constant(texts, tf.string, shape=[len(texts)])
out = serve(prompts=batch, k=tf.constant(3)) if task == "lm" else serve(texts=batch) if task == "sentiment" else serve(sentences=batch)
print(json.dumps({key: value.numpy().tolist() for key, value in out.items()}, default=lambda b: b.decode()))
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("zoo", "mlflow"))))
"""


@pytest.mark.parametrize("task", ["sentiment", "pos", "lm"])
def test_saved_model_in_a_tensorflow_only_process_equals_the_in_memory_model(exported, task):
    _, paths = exported
    texts = TEXTS[task]
    done = subprocess.run([sys.executable, "-c", LOAD_WITH_TENSORFLOW_ONLY, str(paths[task] / "saved_model"), task],
                          input=json.dumps(texts), capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    outputs, modules = map(json.loads, done.stdout.strip().splitlines()[-2:])
    assert modules == []  # neither the zoo nor MLflow was imported (Keras: only what TensorFlow loads itself)
    assert_same(in_memory(paths[task], texts), serving.rows(export.model_config(task), outputs))


def test_bad_inputs_have_defined_outputs(exported):
    _, paths = exported
    for task, texts in TEXTS.items():
        got = export.predict(paths[task] / "saved_model", texts)
        assert len(got) == len(texts) and export.predict(paths[task] / "saved_model", []) == []
        if task == "sentiment":
            assert all(0 <= row["probability"] <= 1 and row["label"] in ("0", "1") for row in got)  # as in the data
        elif task == "pos":
            assert got[1] == {"tokens": [], "tags": []}  # the empty sentence
            assert len(got[2]["tags"]) == MAX_TOKENS  # 100,000 words, cut
            assert got[3]["tokens"] == ["le", "très", "bon", "好", "film"] and len(got[3]["tags"]) == 5
        else:
            assert all(len(row["tokens"]) == 5 and sum(row["probabilities"]) <= 1 + 1e-6 for row in got)
    # the 100,000-character review reads as its first sequence_length words: the same as 6 of them
    sentiment = export.predict(paths["sentiment"] / "saved_model", ["x " * 50_000, "x x x x x x"])
    assert sentiment[0] == sentiment[1]


def test_keras_and_mlflow_formats_give_the_same_predictions(exported):
    _, paths = exported
    for task, path in paths.items():
        texts = TEXTS[task][:2] + TEXTS[task][-1:]
        expected = export.predict(path / "saved_model", texts, k=3)
        assert_same(expected, export.predict(path / "model.keras", texts, k=3))
        assert_same(expected, export.predict(path / "mlflow_model", texts, k=3))
        assert_same(expected, export.predict(path / "model.onnx", texts, k=3))  # onnxruntime, the same tokenizer
        # .keras round trip: the loaded network computes what the run's network computed
        net = keras.saving.load_model(path / "model.keras")
        again = keras.saving.load_model(path / "model.keras")
        ids = np.array([[1, 2, 3, 2]], dtype="int32")
        if len(net.inputs) > 1:  # with character features: each word's character ids too
            ids = (ids, np.array([[[2, 3, 0], [3, 0, 0], [4, 5, 2], [2, 2, 2]]], dtype="int32"))
        np.testing.assert_array_equal(net.predict(ids, verbose=0), again.predict(ids, verbose=0))


def test_registered_model_and_generation(exported):
    folder, paths = exported
    os.chdir(folder)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    mlflow.set_tracking_uri(tracking.tracking_uri())
    client = mlflow.MlflowClient(tracking.tracking_uri())
    for task in paths:
        version = client.get_latest_versions(f"zoo-{task}")[0]
        assert version.run_id == paths[task].name
        # the experiment's only (so best) run: the registry's champion
        assert client.get_model_version_by_alias(f"zoo-{task}", "champion").version == version.version
        model = mlflow.pyfunc.load_model(f"models:/zoo-{task}/{version.version}")
        assert model.metadata.get_input_schema().input_names() == ["text"]
        assert model.metadata.saved_input_example_info is not None
        frame = model.predict(pd.DataFrame({"text": TEXTS[task][:2]}))
        assert_same(export.predict(paths[task] / "saved_model", TEXTS[task][:2]), frame.to_dict("records"))
        assert_same(export.predict(paths[task] / "saved_model", TEXTS[task][:2], k=3),
                    export.predict(f"models:/zoo-{task}/{version.version}", TEXTS[task][:2], k=3))
    # generation: the exported signature samples what zoo.generate samples, with the same seed
    model = mlflow.pyfunc.load_model("models:/zoo-lm/latest")
    frame = model.predict(pd.DataFrame({"text": ["the film"]}), params={"length": 8, "seed": 3})
    config, tokenizers, net = tracking.load_run(paths["lm"].name)
    assert frame["generated"][0] == generate.generate(net, tokenizers["tokens"], "the film", 8, 1.0, seed=3)
    assert len(frame["generated"][0].split()) == 10
    # no request keeps it busy: too long, too hot or too many is refused with what to send instead
    assert serving.MAX_LENGTH == generate.MAX_LENGTH
    for params, needle in (({"length": generate.MAX_LENGTH + 1}, "length=10001 (0 to 10,000)"),
                           ({"length": 5, "temperature": 0.0}, "temperature=0.0 (greater than 0)")):
        with pytest.raises(mlflow.exceptions.MlflowException, match=re.escape(needle)):
            model.predict(pd.DataFrame({"text": ["the film"]}), params=params)
    with pytest.raises(mlflow.exceptions.MlflowException, match="1,001 texts"):
        model.predict(pd.DataFrame({"text": ["the"] * (serving.MAX_TEXTS + 1)}))
    with pytest.raises(mlflow.exceptions.MlflowException, match="3 texts x length 4000 = 12,000 tokens to sample"):
        model.predict(pd.DataFrame({"text": ["a", "b", "c"]}), params={"length": 4000})
    signature = tf.saved_model.load(str(paths["lm"] / "saved_model")).signatures["generate"]
    for length, temperature, needle in ((generate.MAX_LENGTH + 1, 1.0, "length must be from 0 to 10000"),
                                        (3, 0.0, "temperature must be > 0")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=needle):
            signature(prompt=tf.constant("the"), length=tf.constant(length), temperature=tf.constant(temperature),
                      seed=tf.constant(0))
    assert client.get_run(paths["lm"].name).info.status == "FINISHED"
    readme = (paths["lm"] / "README.md").read_text()
    assert "serving_default" in readme and "generate" in readme and "models:/zoo-lm/1" in readme


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("task", ["sentiment", pytest.param("lm", marks=pytest.mark.faults)])
def test_served_over_http_gives_the_same_predictions(exported, task):
    """mlflow models serve of the exported run: the SavedModel's predictions; a request whose work
    has no bound is a 400 that says why (too many texts; for a language model, a generation too
    long, or in all, or a temperature that is not positive), and a bounded generation is answered."""
    _, paths = exported
    path, texts = paths[task], TEXTS[task]
    port = free_port()
    mlflow_cli = os.path.join(os.path.dirname(sys.executable), "mlflow")
    server = subprocess.Popen([mlflow_cli, "models", "serve", "-m", str(path / "mlflow_model"), "--env-manager",
                               "local", "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,  # uvicorn: beside python
                              env={**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]})
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(1)

        def request(prompts, **params):
            """POST /invocations of these texts (and params)."""
            return urllib.request.Request(f"http://127.0.0.1:{port}/invocations", headers={
                "Content-Type": "application/json"}, data=json.dumps({"dataframe_split": {
                    "columns": ["text"], "data": [[p] for p in prompts]}, **({"params": params} if params else {})}).encode())

        answer = json.loads(urllib.request.urlopen(request(texts), timeout=60).read())["predictions"]
        refusals = [(["a"] * (serving.MAX_TEXTS + 1), {}, "1,001 texts")]
        if task == "lm":  # a generation too long, too long in all, or too hot
            refusals += [(["the"], {"length": serving.MAX_LENGTH + 1}, "length=10001"),
                         (["the", "a"], {"length": serving.MAX_LENGTH // 2 + 1}, "10,002 tokens"),
                         (["the"], {"length": 5, "temperature": 0.0}, "temperature=0.0")]
        for prompts, params, why in refusals:
            with pytest.raises(urllib.error.HTTPError) as refused:  # a request with no bound: 400 and why, at once
                urllib.request.urlopen(request(prompts, **params), timeout=10)
            assert refused.value.code == 400 and why in refused.value.read().decode()
        if task == "lm":
            sampled = json.loads(urllib.request.urlopen(request(["the good"], length=5), timeout=60).read())
            assert sampled["predictions"][0]["generated"].startswith("the good")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert_same(export.predict(path / "saved_model", texts), answer)


def test_a_missing_or_failed_run_is_one_line_and_exit_code_2(exported, capsys):
    folder, _ = exported
    os.chdir(folder)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    assert main(["export", "--run", "0123456789abcdef0123456789abcdef"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No MLflow run") and err.count("\n") == 1
    with tracking.start_run("sentiment", "diverged", params={"task": "sentiment"}) as recorder:
        recorder.fail(nan_step=3, nan_cause="loss is nan")
    assert main(["export", "--run", recorder.run_id]) == 2
    err = capsys.readouterr().err
    assert "is FAILED; pick a FINISHED run" in err and err.count("\n") == 1
    assert not (folder / "exports" / "sentiment" / recorder.run_id).exists()
    assert main(["predict", "--model", "exports/nothing/here", "a"]) == 2
    assert "No model at exports/nothing/here" in capsys.readouterr().err


def test_one_tokenizer_from_training_to_serving(exported):
    """The same strings through every path that turns text into ids give the same ids."""
    _, paths = exported
    for task, path in paths.items():
        config = Config(**json.loads((path / "config.json").read_text()))
        trained = datasets.load(config).tokenizers["tokens"]  # the training pipeline's, rebuilt
        beside_model = export.tokenizers_of(path)["tokens"]  # what predict on model.keras uses
        _, of_run, _ = tracking.load_run(path.name)  # what score and generate use
        assert trained == beside_model == of_run["tokens"]
        expected = trained.ids(STRINGS).to_list()
        graph = tf.saved_model.load(str(path / "saved_model")).signatures["tokenize"](texts=tf.constant(STRINGS))
        in_graph = [row[:n] for row, n in zip(graph["ids"].numpy().tolist(), graph["lengths"].numpy())]
        assert in_graph == expected
        if task == "sentiment":  # the run's test split, as training fed it, is the tokenizer's padded ids
            data = datasets.load(config)
            splits, _ = datasets.splits(config)
            width = config.sequence_length  # each batch is padded to its longest review only
            fed = np.concatenate([np.pad(x, ((0, 0), (0, width - x.shape[1]))) for x, _ in data.test.as_numpy_iterator()])
            np.testing.assert_array_equal(fed, trained.padded([text for text, _ in splits["test"]]).numpy())
            # lowercased, <br /> and punctuation gone, "end" unknown to the tiny vocabulary
            assert trained.tokens(expected[0]) == ["good", "film", "the", "[UNK]", "really"]
        if task == "lm":  # generate's prompt ids, and score's ids inside the <eos> boundaries
            assert [generate.prompt_ids(trained, text) for text in STRINGS if text.strip()] == \
                [ids for ids in expected if ids]
            assert generate.prompt_ids(trained, "") == [trained.id_of("<eos>")]
            assert trained.stream("the film").numpy().tolist() == trained.ids(["the film"]).to_list()[0]


REAL = {"sentiment": dict(dataset="sst2", sequence_length=40),
        "pos": dict(dataset="ud_english_ewt", char_features=6),
        "lm": dict(dataset="ptb", sequence_length=20)}


@needs_data
@pytest.mark.parametrize("task", list(REAL))
def test_onnx_gives_the_keras_outputs_for_every_cell(task, tmp_path):
    """Each cell type's network, converted by tf2onnx and run by onnxruntime, gives the Keras
    network's logits within 1e-4 on a batch of real test data (VanillaRNN through its SimpleRNN
    twin; relu and bidirectional where the task allows)."""
    import onnxruntime

    data = datasets.load(Config(task=task, limit=32, batch_size=16, max_vocab=2000, **REAL[task]))
    x = next(iter(data.test))[0]
    variants = [dict(cell=cell) for cell in CELLS] + [dict(cell="vanilla", activation="relu",
                                                          recurrent_initializer="identity", layers=2)]
    if task != "lm":
        variants.append(dict(cell="vanilla", bidirectional=True))
    for variant in variants:
        config = Config(task=task, units=16, embedding_size=16, seed=1, **REAL[task], **variant)
        net = models.build(config, data, stateful=False)
        path = export.write_onnx(net, tmp_path / "model.onnx")
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        assert [tensor.name for tensor in session.get_inputs()] == [tensor.name for tensor in net.inputs]
        assert [tensor.name for tensor in session.get_outputs()] == ["logits"]
        expected = np.asarray(net(x, training=False))
        got = export.OnnxNetwork(path)(x)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4, err_msg=str(variant))


def test_export_of_one_format_keeps_the_others_and_bad_formats_are_one_line(exported, capsys):
    folder, paths = exported
    os.chdir(folder)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    path = paths["sentiment"]
    before = (path / "model.keras").stat().st_mtime_ns
    (path / "model.onnx").unlink()
    assert main(["export", "--run", path.name, "--format", "onnx"]) == 0
    assert (path / "model.onnx").is_file() and (path / "model.keras").stat().st_mtime_ns == before
    readme = (path / "README.md").read_text()
    for entry in ("## model.keras", "## saved_model/", "## mlflow_model/", "## model.onnx", "## From the command line"):
        assert readme.count(entry) == 1, entry
    assert "models:/zoo-sentiment/1" in readme  # the kept MLflow section, with its version
    assert_same(export.predict(path / "saved_model", TEXTS["sentiment"]),
                export.predict(path / "model.onnx", TEXTS["sentiment"]))
    assert export.predict(path / "model.onnx", []) == []
    (path / "README.md").unlink()  # a folder without its README: the sections are written anew
    assert main(["export", "--run", path.name, "--format", " ONNX, "]) == 0
    readme = (path / "README.md").read_text()
    assert all(readme.count(entry) == 1 for entry in ("## model.keras", "## saved_model/", "## mlflow_model/"))
    assert "models:/zoo-sentiment/latest" in readme
    assert main(["export", "--run", path.name, "--format", "onnx,tflite"]) == 2
    err = capsys.readouterr().err
    assert "--format" in err and "keras, saved_model, mlflow, onnx" in err and err.count("\n") == 1
