"""The synthetic long-range tasks (zoo.data.synthetic), generated on the fly: no files, no export.

- adding: many-to-one regression, inputs [batch, time, 2] (value, marker) -> [batch, 1]; MSE.
- copy: many-to-many classification, symbols [batch, time] -> symbol logits [batch, time, 10].
"""

import keras

from zoo.data import synthetic
from zoo.tasks.spec import TaskSpec

ADDING = TaskSpec(
    name="adding",
    description="many-to-one regression: inputs [batch, time, 2] -> [batch, 1]",
    metric="mse", inputs="features", many_to_one=True,
    data=lambda config, dataset, splits, sha256: synthetic.synthetic_data(
        config, synthetic.adding_problem, steps=config.sequence_length),
    loss_and_metrics=lambda config, outputs=None: (keras.losses.MeanSquaredError(), [keras.metrics.MeanSquaredError(name="mse")]),
    baseline=lambda length: synthetic.ADDING_BASELINE_MSE, baseline_name="MSE 0.167: always predict 1",
)

COPY = TaskSpec(
    name="copy",
    description="many-to-many classifier: symbols [batch, time] -> symbol logits [batch, time, 10]",
    metric="accuracy", inputs="tokens", many_to_one=False,
    data=lambda config, dataset, splits, sha256: synthetic.synthetic_data(
        config, synthetic.copy_memory, steps=config.sequence_length + 2 * synthetic.COPY_SYMBOLS,
        classes=synthetic.COPY_DELIMITER + 1),
    loss_and_metrics=lambda config, outputs=None: (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                                     [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]),
    baseline=synthetic.copy_baseline_cross_entropy, baseline_name="10 log 8 / (T + 20): blanks, then guesses",
)
