"""Adding a dataset is one entry in zoo.datasets' table (plus a reader if its format is new):
registered here, in this file alone, through the public API, then trained like any other."""

import hashlib
import json

import mlflow
import numpy as np
import pytest

from zoo import datasets, tracking
from zoo.__main__ import main
from zoo.config import Config
from zoo.data.files import read_conllu, read_text
from zoo.train import run

TINY = dict(units=8, embedding_size=8, epochs=1, flow_samples=1)
TAGS = ["ART", "ADJ-X", "NOM", "VERB-PAST", "PUNKT"]  # not UPOS: a tag set of its own


@pytest.fixture
def registered(tmp_path, monkeypatch):
    """Registers datasets for one test and removes them afterwards; the data directory is tmp."""
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "data"))
    names = []

    def add(dataset):
        names.append(dataset.name)
        return datasets.register(dataset)

    yield add
    for name in names:
        datasets.DATASETS.pop(name, None)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_new_treebank_with_its_own_tag_set_trains(store, registered, tmp_path):
    folder = tmp_path / "data" / "toy_treebank"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    words = {"ART": ["der", "die"], "ADJ-X": ["alte", "neue"], "NOM": ["Hund", "Katze", "Stadt"],
             "VERB-PAST": ["lief", "schlief"], "PUNKT": ["."]}
    files = {}
    for split, count in (("train", 40), ("dev", 8), ("test", 8)):
        sentences = []
        for i in range(count):
            tags = ["ART", "ADJ-X", "NOM", "VERB-PAST", "PUNKT"]
            lines = [f"{k + 1}\t{rng.choice(words[tag])}\t_\t{tag}\t_\t_\t0\tdep\t_\t_" for k, tag in enumerate(tags)]
            sentences.append(f"# sent_id = {split}-{i}\n" + "\n".join(lines) + "\n")
        path = folder / f"toy-{split}.conllu"
        path.write_text("\n".join(sentences) + "\n")
        files["val" if split == "dev" else split] = path.name
    registered(datasets.Dataset(
        "toy_treebank", task="pos", folder="toy_treebank", files=files, read=read_conllu,
        sha256={name: sha256(folder / name) for name in files.values()},
        counts={"train": 40, "val": 8, "test": 8}, source="written by this test"))

    result = run(Config(task="pos", dataset="toy_treebank", batch_size=8, epochs=3, learning_rate=0.02, cell="gru",
                        units=8, embedding_size=8, flow_samples=1))
    assert result.status == "FINISHED" and result.metrics["test_accuracy"] > 0.4  # chance: 0.2
    client = mlflow.MlflowClient(tracking.tracking_uri())
    vocabulary = json.loads(open(client.download_artifacts(result.run_id, "vocabulary.json")).read())
    assert sorted(vocabulary["tags"][2:]) == sorted(TAGS)  # its own tags, learned from its train file
    report = open(client.download_artifacts(result.run_id, "per_tag_f1.md")).read()
    assert "| VERB-PAST " in report and "| ADJ-X " in report
    assert client.get_run(result.run_id).data.params["dataset"] == "toy_treebank"
    # the command line knows it too, and lists it among the valid datasets of the task
    assert main(["train", "--set", "task=pos", "--set", "dataset=no_such_treebank"]) == 2
    # a changed file: its sha256 no longer matches the entry's
    (folder / "toy-test.conllu").write_text("1\tx\t_\tNOM\t_\t_\t0\tdep\t_\t_\n")
    with pytest.raises(Exception, match="Checksum mismatch for .*toy-test.conllu"):
        datasets.splits(Config(task="pos", dataset="toy_treebank"))


def read_jsonl(path):
    """A new format: one JSON object per line with the text under "text" -> one text."""
    return "\n".join(json.loads(line)["text"] for line in read_text(path).splitlines() if line.strip())


def test_a_new_text_corpus_in_a_new_format_trains_a_character_language_model(store, registered, tmp_path, capsys):
    folder = tmp_path / "data" / "toy_corpus"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for split, count in (("train", 300), ("valid", 40), ("test", 40)):
        rows = [{"text": " ".join(rng.choice(["abc", "abd", "bcd", "cab"], 6))} for _ in range(count)]
        (folder / f"{split}.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    registered(datasets.Dataset(
        "toy_corpus", task="lm", level="character", folder="toy_corpus",
        files={"train": "train.jsonl", "val": "valid.jsonl", "test": "test.jsonl"}, read=read_jsonl,
        prompts=("ab",), source="written by this test"))

    result = run(Config(task="lm", dataset="toy_corpus", sequence_length=20, batch_size=8, cell="lstm",
                        learning_rate=0.01, **TINY))
    assert result.status == "FINISHED" and result.metrics["test_perplexity"] < 6  # 6 symbols: a b c d, space, \n
    out = capsys.readouterr().out
    assert "token ids: train 7,199 / val" in out  # characters: 300 lines of 23, and 299 line breaks
    client = mlflow.MlflowClient(tracking.tracking_uri())
    vocabulary = json.loads(open(client.download_artifacts(result.run_id, "vocabulary.json")).read())["tokens"]
    assert vocabulary[0] == "[UNK]" and set(vocabulary[1:]) == set("abcd \n")  # characters, no <eos>
    samples = open(client.download_artifacts(result.run_id, "samples.txt")).read()
    assert samples.count("--- prompt 'ab'") == 3
    assert main(["generate", "--run", result.run_id, "--prompt", "ab", "--length", "10"]) == 0
    generated = capsys.readouterr().out.rstrip("\n")
    assert generated.startswith("ab") and len(generated) == 12 and set(generated) <= set("abcd \n")
