"""What a task is (TaskSpec): its data, its model's ends, what a run reports, how it exports.

Everything outside zoo/tasks asks a TaskSpec instead of branching on a task's name.
"""

import abc
from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd

from zoo.data.pipelines import Data, hold_out, split_80_10_10
from zoo.errors import UserError


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


class TaskSpec(abc.ABC):
    """One task: what the rest of the zoo asks of it, as class attributes and typed methods. Each
    task subclasses it (zoo/tasks/*.py); code outside zoo/tasks asks a task (zoo.tasks.get(name))
    instead of branching on its name. Methods take the run's Config (`config`), its Dataset
    (zoo.datasets) and its Data (zoo.data.pipelines)."""

    name: str
    description: str
    metric: str  # the task metric (train_/val_/test_<metric>); lower is better for mse, perplexity
    inputs: str  # "features" (float [batch, time, features]) or "tokens" (int ids [batch, time])
    many_to_one: bool  # one output per sequence (else one per step)
    padding: bool = False  # token id 0 pads: masked in the model, the loss and the metrics
    characters: bool = False  # can read each word's characters too (config.char_features): inputs
    #                           are then (token ids [batch, time], character ids [batch, time, chars])
    stateful: bool = False  # trains stateful over contiguous windows (exported without state)
    causal: bool = False  # must not read the future: no bidirectional layers
    perplexity: bool = False  # report exp(mean loss) (zoo.layers.GradientMonitor)
    language_model: bool = False  # score and generate apply
    user_format: str = ""  # what a user's file of this task holds, for error messages ("": reads no files)
    count_baseline_name: str = ""  # the counting model of count_baseline, in words ("": none)
    export: Export | None = None  # None: runs of this task are not exported

    @abc.abstractmethod
    def data(self, config, dataset, splits: dict | None, sha256: str | None) -> Data:
        """The run's Data from {split: examples as read} (None for generated data)."""

    @abc.abstractmethod
    def loss_and_metrics(self, config, outputs: int | None) -> tuple[keras.losses.Loss, list]:
        """(Keras loss, [Keras metrics]) for `outputs` classes, tags or vocabulary entries."""

    def report(self, net: keras.Model, data: Data, config, dataset, name: str) -> Report:
        """What the task adds to a finished run, after the test evaluation (none by default)."""
        return Report()

    def count_baseline(self, data: Data) -> float | None:
        """The test metric of a counting model fitted on data.train (logged as metric
        baseline_test_<metric>), or None where the task has none."""
        return None

    # a user's files of this task (tasks with a user_format)
    def read(self, path) -> list:
        """The examples of the file at `path`."""
        raise UserError(f"Task {self.name!r} reads no files; its data is generated.")

    def split(self, examples: list, split_seed: int) -> dict:
        """One file's examples -> {train, val, test} (80/10/10, shuffled with split_seed)."""
        return split_80_10_10(examples, split_seed)

    def hold_out(self, train: list, split_seed: int) -> tuple:
        """(train, val): a tenth of the training examples held out when there is no val file."""
        return hold_out(train, split_seed)

    def describe(self, examples: list, level: str) -> str:
        """What loading prints of a split, e.g. "25,000 texts"."""
        return f"{len(examples):,} examples"

    @property
    def lower_is_better(self):
        return self.metric in ("mse", "perplexity", "loss")
