"""The strong baselines (zoo.baselines): Kneser-Ney by hand and against a plain reference, each
family on a slice of real data against the count baseline of the same slice, the MLflow run each
logs (once), and the command line."""

import collections
import dataclasses
import math
import random

import mlflow
import numpy as np
import pandas as pd
import pytest

from zoo import baselines, compare, export, presets, study, tasks, tracking
from zoo.__main__ import main
from zoo.data.files import data_dir
from zoo.datasets import load, splits
from zoo.errors import UserError

needs_data = pytest.mark.skipif(not (data_dir() / "ptb").is_dir(),
                                reason="the datasets (ZOO_DATA_DIR or ../shared/data) are not here")


def small(name, **fields):
    """The base configuration of study `name` on a slice (limit)."""
    return dataclasses.replace(presets.STUDIES[name].base, **fields)


def count_baseline(config):
    """The test metric of the zoo's count baseline (zoo.tasks: count_baseline) on config's data."""
    return tasks.get(config.task).count_baseline(load(config))


# --- Kneser-Ney ----------------------------------------------------------------------------------

def test_discounts_from_count_of_counts_by_hand():
    # counts with n1 = 4, n2 = 2, n3 = 1, n4 = 1 (0 and 7 count for nothing):
    # Y = n1 / (n1 + 2 n2) = 4 / 8 = 0.5
    # D1 = 1 - 2 Y n2/n1 = 1 - 2 * 0.5 * 2/4 = 0.5; D2 = 2 - 3 Y n3/n2 = 2 - 1.5 * 1/2 = 1.25
    # D3+ = 3 - 4 Y n4/n3 = 3 - 2 * 1/1 = 1.0
    assert baselines.discounts(np.array([1, 1, 1, 1, 2, 2, 3, 4, 0, 7])) == pytest.approx((0.5, 1.25, 1.0))
    # no count of 2 or 3: Chen & Goodman's estimate is undefined; Kneser-Ney's one discount Y = 1
    # is out of (0, 1), so 0.5 for all three
    assert baselines.discounts(np.array([1, 1, 5])) == (0.5, 0.5, 0.5)


def test_kneser_ney_on_a_hand_worked_corpus():
    # vocabulary a=0, b=1, c=2, d=3 (d never seen); corpus "a b a b c a"; discounts fixed at
    # D1 = 0.5, D2 = 1.0, D3+ = 1.5 for every order.
    corpus = [0, 1, 0, 1, 2, 0]
    bigram = baselines.KneserNey.fit([corpus], 4, 2, fixed_discounts=(0.5, 1.0, 1.5))
    # Order 1 (below the highest): continuation counts N1+(. w), the distinct tokens before w:
    # a after b and c -> 2; b after a -> 1; c after b -> 1; d -> 0. Sum 4. Discounted mass
    # gamma = D2 (a) + D1 (b) + D1 (c) = 1.0 + 0.5 + 0.5 = 2.0, spread uniformly (1/4):
    # P1(a) = (2 - 1.0 + 2.0/4) / 4 = 0.375, P1(b) = P1(c) = (1 - 0.5 + 0.5) / 4 = 0.25,
    # P1(d) = 0.5 / 4 = 0.125.
    unigram = [0.375, 0.25, 0.25, 0.125]
    assert bigram.distribution([3]) == pytest.approx(unigram)  # context d unseen: order 1 alone
    # Order 2 (the highest): raw counts. After a: "a b" twice -> sum 2, gamma(a) = D2 = 1.0:
    # P(b | a) = (2 - 1.0 + 1.0 * 0.25) / 2 = 0.625; P(a | a) = 1.0 * 0.375 / 2 = 0.1875;
    # P(c | a) = 0.25 / 2 = 0.125; P(d | a) = 0.125 / 2 = 0.0625.
    assert bigram.distribution([0]) == pytest.approx([0.1875, 0.625, 0.125, 0.0625])
    # The corpus itself: a at the start has no history (order 1: 0.375); then P(b|a) = 0.625;
    # P(a|b) = ("b a" once, "b c" once: sum 2, gamma 0.5 + 0.5) (1 - 0.5 + 1.0 * 0.375) / 2 = 0.4375;
    # P(b|a) = 0.625; P(c|b) = (0.5 + 0.25) / 2 = 0.375; P(a|c) = ("c a" once) (0.5 + 0.5 * 0.375) / 1 = 0.6875
    by_hand = [0.375, 0.625, 0.4375, 0.625, 0.375, 0.6875]
    assert np.exp(bigram.log_probs(bigram.windows(corpus))) == pytest.approx(by_hand)
    loss, tokens = bigram.loss([corpus])
    assert tokens == 6 and loss == pytest.approx(-np.mean(np.log(by_hand)))
    # Order 3: trigrams a b a, b a b, a b c, b c a (raw, once each); the bigrams below count
    # continuations: "a b" only after b -> 1, "b a" after a -> 1, "b c" after a -> 1, "c a" after b -> 1.
    # P2(c | b) = ("b a", "b c": sum 2, gamma 1.0) (1 - 0.5 + 1.0 * P1(c) = 0.25) / 2 = 0.375
    # P3(c | a b) = ("a b a", "a b c": sum 2, gamma 1.0) (1 - 0.5 + 1.0 * 0.375) / 2 = 0.4375
    trigram = baselines.KneserNey.fit([corpus], 4, 3, fixed_discounts=(0.5, 1.0, 1.5))
    assert trigram.distribution([0, 1])[2] == pytest.approx(0.4375)
    assert trigram.distribution([0, 1]).sum() == pytest.approx(1.0)


def reference_kneser_ney(tokens, vocabulary, order):
    """The same smoothing written out with dictionaries, one probability at a time: P(w | history)."""
    grams = [collections.Counter(tuple(tokens[i - k + 1:i + 1]) for i in range(k - 1, len(tokens)))
             for k in range(1, order + 1)]
    counts = []
    for k in range(1, order + 1):
        if k == order:
            counts.append(dict(grams[k - 1]))
        else:
            continuation = collections.Counter(gram[1:] for gram in grams[k])
            counts.append({gram: continuation.get(gram, 0) for gram in grams[k - 1]})
    ds = [baselines.discounts(np.array(list(c.values()))) for c in counts]

    def p(word, history):
        value = 1 / vocabulary
        for k in range(1, order + 1):
            if len(history) < k - 1:
                break
            context = tuple(history[len(history) - k + 1:]) if k > 1 else ()
            after = {g: c for g, c in counts[k - 1].items() if g[:-1] == context}
            total = sum(after.values())
            if total == 0:
                continue
            d = (0, *ds[k - 1])
            mass = sum(d[min(c, 3)] for c in after.values())
            c = after.get(context + (word,), 0)
            value = (max(c - d[min(c, 3)], 0) + mass * value) / total
        return value

    return p


def test_kneser_ney_matches_a_plain_reference_and_every_distribution_sums_to_one():
    rng = np.random.default_rng(0)
    tokens = [int(t) for t in rng.choice(6, size=400, p=[0.4, 0.2, 0.15, 0.1, 0.1, 0.05])]
    model = baselines.KneserNey.fit([tokens], 7, 3)  # id 6 is never seen
    reference = reference_kneser_ney(tokens, 7, 3)
    for history in ([], [0], [5], [6], [0, 1], [4, 5], [6, 0], [5, 5]):
        distribution = model.distribution(history)
        assert distribution.sum() == pytest.approx(1.0, abs=1e-12)
        assert (distribution > 0).all()
        assert distribution == pytest.approx([reference(w, history) for w in range(7)], rel=1e-12)


def test_kneser_ney_n_grams_do_not_cross_segments():
    # "0 1" in one segment, "2 3" in the other: nothing was seen after 1, so its context is unseen
    model = baselines.KneserNey.fit([[0, 1], [2, 3]], 4, 2)
    assert model.distribution([1]) == pytest.approx(model.distribution([]))
    assert model.distribution([0]).argmax() == 1


# --- each family on real data ----------------------------------------------------------------------

@needs_data
@pytest.mark.parametrize("name", ["tfidf-logreg", "nbsvm"])
def test_sentiment_baselines_beat_the_majority_class_on_the_same_slice(name):
    config = small("sst2", limit=2000)
    fitted = baselines.BASELINES["sentiment"][name].fit(config, splits(config)[0])
    majority = count_baseline(config)
    assert fitted.test > majority + 0.1 and fitted.val > 0.6, (fitted, majority)
    assert set(fitted.setting) == set(baselines.BASELINES["sentiment"][name].setting)
    if name == "tfidf-logreg":
        assert fitted.setting["C"] in baselines.C_VALUES and 0 < fitted.test_loss < math.log(2)
    else:
        assert fitted.test_loss is None  # an SVM gives no probabilities


@needs_data
def test_perceptron_beats_the_most_frequent_tag_on_the_same_slice(monkeypatch):
    monkeypatch.setattr(baselines, "ITERATIONS", (1, 3))
    config = small("ewt", limit=1000)
    fitted = baselines.perceptron(config, splits(config)[0])
    assert fitted.test > count_baseline(config) + 0.02 and fitted.setting["iterations"] in (1, 3)


@needs_data
def test_our_perceptron_loop_is_nltks_own_training():
    from nltk.tag.perceptron import PerceptronTagger

    found = splits(small("ewt", limit=300))[0]
    sentences = [list(zip(words, tags)) for words, tags in found["train"]]
    ours = baselines.train_perceptron(sentences, (1, 2), seed=3)
    random.seed(3)  # NLTK shuffles with the module's generator
    theirs = PerceptronTagger(load=False)
    theirs.train(sentences, nr_iter=2)
    assert ours.model.weights == theirs.model.weights and ours.tagdict == theirs.tagdict
    words = list(found["test"][0][0])
    assert ours.tag(words) == theirs.tag(words)


@needs_data
def test_kneser_ney_beats_the_unigram_on_the_same_windows_of_ptb_and_characters(monkeypatch):
    config = small("ptb", limit=20)
    found = splits(config)[0]
    vocabulary, streams = baselines.lm_streams(config, found, "word")
    # the zoo's windows: batch_size rows, each the tokens of its first `limit` windows and one more,
    # and its vocabulary: the limited training text's (the limit cuts the text before it is tokenized)
    assert [len(s) for s in streams["test"]] == [20 * 35 + 1] * 20
    from zoo.data.corpus import prefix
    from zoo.tasks.language import tokenizer_of

    words = tokenizer_of("word")
    read = words.split([prefix(found["train"], words, 20 * (20 * 35 + 1))]).flat_values.numpy()
    assert vocabulary == len(set(read)) + 1 < 10_001  # and the unknown id
    fitted = baselines.kneser_ney(config, found)
    assert fitted.setting == {"order": 5} and fitted.test < 0.7 * count_baseline(config)
    assert fitted.test_loss == pytest.approx(math.log(fitted.test))
    monkeypatch.setitem(baselines.ORDERS, "character", (2, 4))
    config = small("tinyshakespeare", limit=5)
    fitted = baselines.kneser_ney(config, splits(config)[0])
    assert fitted.setting["order"] in (2, 4) and fitted.test < 0.6 * count_baseline(config)


# --- runs and the command line ---------------------------------------------------------------------

@needs_data
def test_a_baseline_is_one_mlflow_run_logged_once_and_a_failure_ends_failed(store, monkeypatch, capsys):
    config = small("sst2", limit=500)
    row = baselines.run(config, "tfidf-logreg", study="sst2")
    run = tracking.get_run(row["run_id"])
    assert mlflow.get_experiment(run.info.experiment_id).name == "sentiment" and run.info.status == "FINISHED"
    assert run.data.tags["baseline"] == "tfidf-logreg" and run.data.tags["study"] == "sst2"
    assert run.data.tags["baseline_description"].startswith("TF-IDF") and "variant" not in run.data.tags
    assert {k: run.data.params[k] for k in ("task", "dataset", "limit", "split_seed", "searched")} == {
        "task": "sentiment", "dataset": "sst2", "limit": "500", "split_seed": "0", "searched": "C=1,4,16"}
    assert float(run.data.params["C"]) in baselines.C_VALUES
    tried = dict(item.split(": ") for item in run.data.tags["baseline_selection"].split("; "))
    assert list(tried) == ["C=1", "C=4", "C=16"]
    assert float(tried[f"C={run.data.params['C']}"]) == pytest.approx(run.data.metrics["val_accuracy"], abs=1e-6)
    assert max(map(float, tried.values())) == pytest.approx(run.data.metrics["val_accuracy"], abs=1e-6)
    metrics = run.data.metrics
    assert set(metrics) == {"val_accuracy", "test_accuracy", "val_loss", "test_loss", "train_seconds"}
    assert 0.5 < metrics["test_accuracy"] <= 1 and metrics["train_seconds"] > 0
    assert row["test"] == metrics["test_accuracy"] and not row["skipped"]

    again = baselines.run(config, "tfidf-logreg", study="sst2")  # the same params: not run again
    assert again["skipped"] and again["run_id"] == row["run_id"]
    assert "already logged" in capsys.readouterr().out
    assert len(tracking.runs("sentiment")) == 1

    # another slice is another run; a baseline that raises ends its run FAILED, saying why
    def broken(config, found):
        raise RuntimeError("the solver fell over")

    monkeypatch.setitem(baselines.BASELINES["sentiment"], "tfidf-logreg",
                        dataclasses.replace(baselines.BASELINES["sentiment"]["tfidf-logreg"], fit=broken))
    with pytest.raises(RuntimeError):
        baselines.run(small("sst2", limit=400), "tfidf-logreg", study="sst2")
    frame = tracking.runs("sentiment")
    failed = frame[frame["status"] == "FAILED"]
    assert len(failed) == 1 and failed["tags.error"].iloc[0] == "RuntimeError: the solver fell over"
    assert "metrics.test_accuracy" not in failed or failed["metrics.test_accuracy"].isna().all()
    assert tracking.finished_baseline("sentiment", "tfidf-logreg", baselines.identity(small("sst2", limit=400),
                                                                                       "tfidf-logreg")) is None
    # a baseline fitted on a small labelled set never stands in for the whole training set, nor the other way
    small_set = dataclasses.replace(small("sst2", limit=300), train_limit=100)
    assert tracking.finished_baseline("sentiment", "tfidf-logreg", baselines.identity(small_set, "tfidf-logreg")) is None

    # the study's own machinery never takes a baseline's run for one of its configurations
    configs = [dataclasses.asdict(c) for name, s in presets.STUDIES.items() if s.base.task == "sentiment"
               for r in [study.resolved(s, None)]  # a transfer study: its arms from scratch
               for c in study.grid_configs(r) + [c for cell in r.cells for c in study.search_configs(r, cell)]]
    assert compare.matching(compare.comparable(tracking.runs("sentiment")), configs) == {}
    with pytest.raises(UserError, match="No finished 'sentiment' run"):
        export.best_run("sentiment")  # a baseline logs no model: never the run to export


@needs_data
def test_the_command_line_runs_a_studys_baselines_once_and_refuses_an_unknown_study(store, monkeypatch, capsys):
    sst2 = presets.STUDIES["sst2"]
    monkeypatch.setitem(presets.STUDIES, "sst2", dataclasses.replace(sst2, base=small("sst2", limit=300)))
    assert main(["baselines", "--study", "sst2"]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("| sst2")]
    assert len(table) == 2 and "tfidf-logreg" in table[0] and "nbsvm" in table[1] and "accuracy" in table[0]
    assert len(tracking.runs("sentiment")) == 2
    assert main(["baselines", "--study", "sst2"]) == 0
    assert capsys.readouterr().out.count("already logged") == 2 and len(tracking.runs("sentiment")) == 2

    assert main(["baselines", "--study", "sst2,nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("error: Invalid study 'nope'; valid choices: sst2, imdb, ewt, ptb, tinyshakespeare")
    assert len(tracking.runs("sentiment")) == 2


def test_compare_shows_the_strong_baselines_fitted_on_the_compared_runs_data():
    runs = pd.DataFrame([
        {"run_id": "cell", "status": "FINISHED", "params.dataset": "sst2", "params.limit": "0", "params.split_seed": "0"},
        {"run_id": "old", "status": "FINISHED", "tags.baseline": "nbsvm", "params.dataset": "sst2", "params.limit": "0",
         "params.split_seed": "0", "metrics.test_accuracy": 0.80, "start_time": 1},
        {"run_id": "new", "status": "FINISHED", "tags.baseline": "nbsvm", "params.dataset": "sst2", "params.limit": "0",
         "params.split_seed": "0", "metrics.test_accuracy": 0.81, "start_time": 2},
        {"run_id": "slice", "status": "FINISHED", "tags.baseline": "tfidf-logreg", "params.dataset": "sst2",
         "params.limit": "300", "params.split_seed": "0", "metrics.test_accuracy": 0.7, "start_time": 3},
        {"run_id": "imdb", "status": "FINISHED", "tags.baseline": "nbsvm", "params.dataset": "imdb", "params.limit": "0",
         "params.split_seed": "0", "metrics.test_accuracy": 0.9, "start_time": 4},
        {"run_id": "failed", "status": "FAILED", "tags.baseline": "tfidf-logreg", "params.dataset": "sst2",
         "params.limit": "0", "params.split_seed": "0", "start_time": 5}])
    rows = compare.strong_baselines(runs, runs.iloc[:1], "accuracy")
    # only the newest finished baseline fitted on the compared runs' data: not the slice, imdb, nor the failure
    assert rows["variant"].tolist() == ["baseline: nbsvm (sst2)"] and rows["test_accuracy_mean"].tolist() == [0.81]
