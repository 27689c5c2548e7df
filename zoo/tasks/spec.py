"""What a task is, in one record: its data, its model's ends, what a run reports, how it exports.

Everything outside zoo/tasks asks a TaskSpec instead of branching on a task's name.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Report:
    """What a task adds to a finished run: metrics, text artifacts and figures (name -> value)."""

    metrics: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)


@dataclass
class Export:
    """How a task's run is exported (zoo.export) and served (zoo.serving).

    endpoints(archive, net, config, tokenizers): adds the SavedModel's raw-string endpoints.
    predict(net, config, tokenizers, texts, k): the same predictions from the Keras network.
    serving: the MLflow model's model_config, which zoo.serving reads instead of the task's name:
        input (the signature's input name), params ({pyfunc param: signature input}), columns
        (outputs, in order), lengths (the output that cuts per-token columns, or None), generate
        (the signature that fills column `generated` when params length > 0, or None).
    examples: texts for the MLflow signature and the README; readme: the README's task parts
        (calls, cut, columns, outputs, empty) and signatures {name: text}.
    """

    endpoints: object
    predict: object
    serving: dict
    examples: list
    signatures: dict
    readme: dict


def confusion(net, batches, classes, counted=None):
    """matrix[i, j]: targets of class i that `net` predicts as j, over `batches` of (inputs, class
    ids), where counted(class ids) is True (all of them by default; padding left out by a tagger)."""
    matrix = np.zeros((classes, classes), dtype="int64")
    for x, y in batches:
        y, predicted = y.numpy(), net.predict_on_batch(x).argmax(-1)
        keep = counted(y) if counted is not None else np.ones(y.shape, bool)
        np.add.at(matrix, (y[keep], predicted[keep]), 1)
    return matrix


def per_class(matrix, names):
    """(table of support, precision, recall and F1 per class, the matrix) of a confusion matrix
    (matrix[i, j]: class i predicted as j), keeping the classes that occur."""
    used = [i for i in range(len(names)) if matrix[i].sum() or matrix[:, i].sum()]
    matrix = matrix[np.ix_(used, used)]
    true_positive = np.diag(matrix)
    precision = true_positive / np.maximum(matrix.sum(axis=0), 1)
    recall = true_positive / np.maximum(matrix.sum(axis=1), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    table = pd.DataFrame({"class": [names[i] for i in used], "support": matrix.sum(axis=1),
                          "precision": precision, "recall": recall, "f1": f1})
    return table, matrix


def no_report(net, data, config, dataset, name):
    return Report()


@dataclass
class TaskSpec:
    """One task. Functions take the run's Config (`config`), its Dataset (zoo.datasets) and Data."""

    name: str
    description: str
    metric: str  # the task metric (train_/val_/test_<metric>); lower is better for mse, perplexity
    inputs: str  # "features" (float [batch, time, features]) or "tokens" (int ids [batch, time])
    many_to_one: bool  # one output per sequence (else one per step)
    data: object  # (config, dataset, splits, sha256) -> zoo.data.Data; splits None for generated data
    loss_and_metrics: object  # (config, outputs: classes, tags or vocabulary size) -> (keras loss, [keras metrics])
    padding: bool = False  # token id 0 pads: masked in the model, the loss and the metrics
    characters: bool = False  # can read each word's characters too (config.char_features): inputs
    #                           are then (token ids [batch, time], character ids [batch, time, chars])
    stateful: bool = False  # trains stateful over contiguous windows (exported without state)
    causal: bool = False  # must not read the future: no bidirectional layers
    perplexity: bool = False  # report exp(mean loss) (zoo.layers.GradientMonitor)
    read: object = None  # path -> examples: the reader of a user's file of this task
    user_format: str = ""  # what such a file holds, for error messages
    split: object = None  # (examples, split_seed) -> {train, val, test}: one file, split
    hold_out: object = None  # (train examples, split_seed) -> (train, val): when there is no val file
    describe: object = None  # (examples, level) -> "25,000 texts": what loading prints per split
    report: object = no_report  # (net, data, config, dataset, run name) -> Report, after the test evaluation
    export: Export | None = None  # None: runs of this task are not exported
    language_model: bool = False  # score and generate apply
    baseline: object = None  # sequence_length -> held-out loss of a memoryless model (synthetic tasks)
    baseline_name: str = ""  # that baseline, in words
    count_baseline: object = None  # Data -> the test metric of a counting model fitted on data.train
    count_baseline_name: str = ""  # that model, in words (logged as metric baseline_test_<metric>)

    @property
    def lower_is_better(self):
        return self.metric in ("mse", "perplexity", "loss")
