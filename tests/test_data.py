"""The dataset loaders: counts on the full files, bad files, a user's own files, vocabularies."""

import gzip
import json

import keras
import mlflow
import numpy as np
import pytest

from zoo import tracking
from zoo.__main__ import main
from zoo.config import Config
from zoo.data import language, load, remote, sentiment, split_user_data, tagging
from zoo.data.files import data_dir, read_conllu, read_table, read_text
from zoo.errors import UserError
from zoo.train import run

needs_data = pytest.mark.skipif(not (data_dir() / "ptb").is_dir(),
                                reason="the datasets (ZOO_DATA_DIR or ../shared/data) are not here")


@needs_data
def test_counts_on_the_full_files_match_the_dataset_readmes():
    splits, _ = sentiment.imdb()
    assert {s: (len(t), sum(labels)) for s, (t, labels) in splits.items()} == {
        "train": (25_000, 12_500), "test": (25_000, 12_500)}
    splits, _ = sentiment.sst2()
    assert [len(t) for t, _ in splits.values()] == [67_349, 872, 1_821]
    assert sum(splits["train"][1]) == 37_569
    splits, _ = tagging.ud_english_ewt()
    assert [len(s) for s in splits.values()] == [12_544, 2_001, 2_077]
    assert [sum(len(w) for w, _ in s) for s in splits.values()] == [204_577, 25_147, 25_094]
    assert len({tag for _, tags in splits["train"] for tag in tags}) == 17
    splits, _ = language.ptb()
    assert [len(s) for s in splits.values()] == [929_589, 73_760, 82_430]
    assert len(set(splits["train"])) == 10_000
    text = read_text(data_dir() / "tinyshakespeare" / "input.txt")
    assert len(text) == 1_115_394 and len(set(text)) == 65


@needs_data
def test_tagging_pipeline_pads_with_zero_and_keeps_whole_sentences():
    data = load(Config(task="pos", dataset="ud_english_ewt", batch_size=64))
    lengths = [int((x > 0).sum()) for x, _ in data.test.unbatch().as_numpy_iterator()]
    assert sum(lengths) == 25_094  # no word cut
    x, y = next(iter(data.val))
    assert ((x.numpy() == 0) == (y.numpy() == 0)).all()  # padding in both, in the same places
    assert data.num_outputs == 19 and data.vocabularies["tags"][:2] == ["", "[UNK]"]


def test_missing_data_directory_is_one_line_naming_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(UserError, match=r"Missing data file .*nowhere.*ptb\.train\.txt: set ZOO_DATA_DIR"):
        load(Config(task="lm", dataset="ptb"))
    assert main(["train", "--set", "task=pos", "--set", "dataset=ud_english_ewt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Missing data file") and err.count("\n") == 1
    assert not (tmp_path / "mlruns").exists()


def test_bad_files_name_the_file_and_line(tmp_path):
    truncated = tmp_path / "train.csv.gz"
    rows = "".join(f"{i},9,1,review {i} {np.random.default_rng(i).integers(1e9)}\n" for i in range(2000))
    whole = gzip.compress(("id,rating,label,text\n" + rows).encode())
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UserError, match=r"Corrupt data file .*train\.csv\.gz"):
        read_table(truncated, "text", "label")
    conllu = tmp_path / "bad.conllu"
    conllu.write_text("# text = a b\n1\ta\ta\tDET\tDT\t_\t2\tdet\t_\t_\n2\tb\tb\tNOUN\n\n")
    with pytest.raises(UserError, match=r"Malformed CoNLL-U line in .*bad\.conllu, line 3: expected 10"):
        read_conllu(conllu)
    table = tmp_path / "reviews.csv"
    table.write_text("text,label\ngood,1\nbad,zero\n")
    with pytest.raises(UserError, match=r"Malformed row in .*reviews\.csv, line 3"):
        read_table(table, "text", "label")
    with pytest.raises(UserError, match="has no column 'sentence' \\(columns: text, label\\)"):
        read_table(table, "sentence", "label")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(UserError, match="is not UTF-8"):
        read_text(latin)


def user_files(tmp_path):
    rng = np.random.default_rng(0)
    words = ["good", "great", "fine", "bad", "awful", "dull", "the", "film", "was", "a"]
    reviews = tmp_path / "reviews.csv"
    lines = ["text,label"]
    for i in range(60):
        label = i % 2
        chosen = rng.choice(words[:3] if label else words[3:6], 2).tolist() + ["the", "film"]
        lines.append(f"\"{' '.join(chosen)}, really\",{label}")
    reviews.write_text("\n".join(lines) + "\n")
    treebank = tmp_path / "mine.conllu"
    sentences = []
    for i in range(20):
        sentences.append(f"# sent_id = {i}\n1\tthe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n"
                         f"2\t{words[i % 6]}\t_\tADJ\tJJ\t_\t3\tamod\t_\t_\n3\tfilm\tfilm\tNOUN\tNN\t_\t0\troot\t_\t_\n")
    treebank.write_text("\n".join(sentences) + "\n")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(rng.choice(words, 8)) for _ in range(200)) + "\n")
    return reviews, treebank, corpus


def test_a_users_own_files_in_the_standard_formats(tmp_path):
    reviews, treebank, corpus = user_files(tmp_path)
    data = load(Config(task="sentiment", dataset="user", data_path=str(reviews), sequence_length=6, batch_size=8))
    x, y = next(iter(data.train))
    assert x.shape == (8, 6) and set(y.numpy()) <= {0, 1} and data.num_outputs == 2
    data = load(Config(task="pos", dataset="user", data_path=str(treebank), batch_size=4))
    x, y = next(iter(data.train))
    assert x.shape == y.shape == (4, 3) and data.vocabularies["tags"][2:] and data.num_outputs == 5
    data = load(Config(task="lm", dataset="user", data_path=str(corpus), sequence_length=5, batch_size=4))
    x, y = next(iter(data.train))
    assert x.shape == y.shape == (4, 5) and (x.numpy()[:, 1:] == y.numpy()[:, :-1]).all()
    with pytest.raises(UserError, match="dataset=user needs --set data_path"):
        load(Config(task="lm", dataset="user"))


def test_a_saved_vocabulary_reproduces_the_same_token_ids(store):
    reviews, _, _ = user_files(store)
    config = Config(task="sentiment", dataset="user", data_path=str(reviews), sequence_length=6,
                    batch_size=8, units=8, embedding_size=8, epochs=1, flow_samples=1)
    result = run(config)
    path = mlflow.MlflowClient(tracking.tracking_uri()).download_artifacts(result.run_id, "vocabulary.json")
    vocabulary = json.loads(open(path).read())["tokens"]
    vectorizer = keras.layers.TextVectorization(vocabulary=vocabulary[2:], output_sequence_length=6)
    texts, labels = read_table(reviews, "text", "label")
    test_texts = [text for text, _ in split_user_data(list(zip(texts, labels)), config.seed)["test"]]
    ids = np.concatenate([x for x, _ in load(config).test.as_numpy_iterator()])
    np.testing.assert_array_equal(vectorizer(test_texts).numpy(), ids)


def only_child(experiment):
    runs = tracking.runs(experiment)
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert len(children) == 1 and children.iloc[0]["status"] == "FINISHED"
    return children.iloc[0]


@needs_data
def test_sentiment_script_on_a_slice_of_sst2(store, script):
    sentiment = script("sentiment")
    argv = ["--set", "dataset=sst2", "--set", "limit=1500", "--grid", "cell=gru"]
    assert sentiment.main(sentiment.__doc__, sentiment.PRESETS, argv) == 0
    run = only_child("sentiment")
    assert run["metrics.test_accuracy"] > 0.6 and run["metrics.test_auc"] > 0.65  # chance: 0.5
    assert run["params.dataset"] == "sst2" and run["params.limit"] == "1500"
    assert np.isfinite(run["metrics.val_accuracy"]) and len(run["tags.data_sha256"]) == 64
    artifacts = {a.path for a in mlflow.MlflowClient(tracking.tracking_uri()).list_artifacts(run["run_id"])}
    assert {"vocabulary.json", "learning_curves.png", "gradient_flow.png", "config.json"} <= artifacts


@needs_data
def test_pos_script_on_a_slice_of_ewt(store, script):
    pos = script("pos_tagging")
    assert pos.main(pos.__doc__, pos.PRESETS, ["--set", "limit=1500", "--grid", "cell=gru"]) == 0
    run = only_child("pos")
    assert run["metrics.test_accuracy"] > 0.5  # the most frequent tag, NOUN, is 17% of tokens
    assert 0 < run["metrics.test_macro_f1"] < 1
    client = mlflow.MlflowClient(tracking.tracking_uri())
    artifacts = {a.path for a in client.list_artifacts(run["run_id"])}
    assert {"per_tag_f1.md", "confusion_matrix.png", "vocabulary.json"} <= artifacts
    report = open(client.download_artifacts(run["run_id"], "per_tag_f1.md")).read()
    assert "| NOUN " in report and "| PUNCT " in report


def test_language_model_batches_carry_each_row_on_from_the_last(tmp_path):
    _, _, corpus = user_files(tmp_path)
    data = load(Config(task="lm", dataset="user", data_path=str(corpus), sequence_length=5, batch_size=4))
    batches = list(data.train.as_numpy_iterator())
    assert len(batches) >= 3
    for (x, y), (next_x, _) in zip(batches, batches[1:]):
        assert x.shape == (4, 5)
        np.testing.assert_array_equal(y[:, :-1], x[:, 1:])  # targets: the window shifted by one
        np.testing.assert_array_equal(next_x[:, 0], y[:, -1])  # row i continues where it stopped


@needs_data
def test_language_model_script_scores_and_generates(store, script, capsys):
    lm = script("language_model")
    assert lm.main(lm.__doc__, lm.PRESETS, ["--set", "limit=40", "--grid", "cell=gru"]) == 0
    run = only_child("lm")
    assert run["metrics.test_perplexity"] < 2000  # uniform guessing: 10,001
    assert run["metrics.test_perplexity"] == pytest.approx(np.exp(run["metrics.test_loss"]), rel=1e-4)
    client = mlflow.MlflowClient(tracking.tracking_uri())
    samples = open(client.download_artifacts(run["run_id"], "samples.txt")).read()
    assert samples.count("--- prompt") == 6 and "temperature 1.5" in samples
    capsys.readouterr()
    assert main(["score", "--run", run["run_id"], "john is driving a car", "john is driving a cat"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(None, 1)[1] for line in lines] == ["john is driving a car", "john is driving a cat"]
    assert all(float(line.split()[0]) < 0 for line in lines)
    assert main(["generate", "--run", run["run_id"], "--prompt", "the", "--length", "5"]) == 0
    assert len(capsys.readouterr().out.split()) >= 6
    assert main(["score", "--run", "no-such-run", "x"]) == 2
    assert "No MLflow run 'no-such-run'" in capsys.readouterr().err


@needs_data
def test_tiny_shakespeare_goes_through_the_tfds_builder_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    splits, files = language.tinyshakespeare()
    assert (tmp_path / "tfds" / "tiny_shakespeare").is_dir()  # prepared by TFDS from input.txt
    expected = language.split_90_5_5(read_text(data_dir() / "tinyshakespeare" / "input.txt"))
    assert {split: len(chars) for split, chars in splits.items()} == {"train": 1_003_854, "val": 55_770,
                                                                      "test": 55_770}
    assert splits == expected


@needs_data
def test_ptb_download_checks_the_sha256(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    canonical = (data_dir() / "ptb").resolve().as_uri() + "/"  # the same files, served by file://
    paths = remote.ptb_files(canonical)
    assert [p.name for p in paths] == ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"]
    assert all(p.read_bytes() == (data_dir() / "ptb" / p.name).read_bytes() for p in paths)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in remote.PTB_SHA256:
        (mirror / name).write_bytes((data_dir() / "ptb" / name).read_bytes())
    (mirror / "ptb.test.txt").write_bytes((mirror / "ptb.test.txt").read_bytes()[:-10])  # truncated
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "other"))
    with pytest.raises(UserError, match=r"Checksum mismatch for ptb.test.txt .*download again"):
        remote.ptb_files(mirror.as_uri() + "/")
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "empty"))
    with pytest.raises(UserError, match=r"Could not download .*nowhere/ptb.train.txt"):
        remote.ptb_files((tmp_path / "nowhere").as_uri() + "/")


def test_tfds_examples_become_the_local_schema(monkeypatch):
    rows = {"train": [{"tokens": [b"I", b"ran"], "upos": [1, 2]}], "dev": [{"tokens": [b"Go"], "upos": [2]}],
            "test": [{"tokens": [b"ok"], "upos": [0]}]}
    monkeypatch.setattr(remote, "_tfds", lambda name, splits, manual_dir=None: rows)
    monkeypatch.setattr(remote, "upos_names", lambda: ["ADJ", "PRON", "VERB"])
    assert remote.ud_english_ewt() == {"train": [(["I", "ran"], ["PRON", "VERB"])], "val": [(["Go"], ["VERB"])],
                                       "test": [(["ok"], ["ADJ"])]}
    glue = {"train": [{"sentence": b"fine", "label": 1}], "validation": [{"sentence": b"bad", "label": 0}]}
    monkeypatch.setattr(remote, "_tfds", lambda name, splits, manual_dir=None: glue)
    assert remote.sst2() == {"train": (["fine"], [1]), "val": (["bad"], [0]), "test": (["bad"], [0])}
