"""The synthetic long-range tasks (zoo.data.synthetic), generated on the fly: no files, no export.

- adding: many-to-one regression, inputs [batch, time, 2] (value, marker) -> [batch, 1]; MSE.
- copy: many-to-many classification, symbols [batch, time] -> symbol logits [batch, time, 10].

Each also knows its memoryless baseline: baseline(sequence_length), the held-out loss of a model
that remembers nothing (baseline_name says it in words; experiments/long_range.py draws it).
"""

import keras

from zoo.data import synthetic
from zoo.tasks.spec import TaskSpec


class Adding(TaskSpec):
    name = "adding"
    description = "many-to-one regression: inputs [batch, time, 2] -> [batch, 1]"
    metric, inputs, many_to_one = "mse", "features", True
    baseline_name = "MSE 0.167: always predict 1"

    def data(self, config, dataset, splits, sha256):
        return synthetic.synthetic_data(config, synthetic.adding_problem, steps=config.sequence_length)

    def loss_and_metrics(self, config, outputs=None):
        return keras.losses.MeanSquaredError(), [keras.metrics.MeanSquaredError(name="mse")]

    def baseline(self, length):
        return synthetic.ADDING_BASELINE_MSE


class Copy(TaskSpec):
    name = "copy"
    description = "many-to-many classifier: symbols [batch, time] -> symbol logits [batch, time, 10]"
    metric, inputs, many_to_one = "accuracy", "tokens", False
    baseline_name = "10 log 8 / (T + 20): blanks, then guesses"

    def data(self, config, dataset, splits, sha256):
        return synthetic.synthetic_data(config, synthetic.copy_memory,
                                        steps=config.sequence_length + 2 * synthetic.COPY_SYMBOLS,
                                        classes=synthetic.COPY_DELIMITER + 1)

    def loss_and_metrics(self, config, outputs=None):
        return (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                [keras.metrics.SparseCategoricalAccuracy(name="accuracy")])

    def baseline(self, length):
        return synthetic.copy_baseline_cross_entropy(length)
