"""A non-recurrent alternative to the RNNs: causal, dilated 1-D convolutions (`CausalConvStack`).

This module imports Keras and TensorFlow only (NumPy, and the zoo's `checks`, which imports
nothing heavier).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from zoo.layers.checks import _check_sequences_shape, _check_units


@keras.saving.register_keras_serializable(package="zoo")
class CausalConvStack(keras.layers.Layer):
    """A non-recurrent alternative: causal, dilated 1-D convolutions (WaveNet style).

    Layer i is `Conv1D(units, kernel_size, padding="causal", dilation_rate=2**i, relu)` with a
    residual connection, so the output at step t sees inputs at t and before only, and the
    receptive field, 1 + (kernel_size - 1)(2**layers - 1), doubles with each layer. Enough layers
    are stacked to cover `receptive_field` steps.

    Args:
        units: Positive integer, channels of every layer (and of the output).
        receptive_field: Steps the output must see, usually the sequence length.
        kernel_size: Taps per convolution. Default: 2.
        return_sequences: Return every step [batch, time, units] rather than the last
            (unmasked) one [batch, units]. Default: `False`.
        dropout: Fraction of each layer's output dropped in training. Default: 0.

    Call arguments:
        sequences: [batch, time, features].
        mask: [batch, time] bool, right padding; masked inputs are zeroed, and the last output
            is that of the last unmasked step.

    Example:

    ```python
    stack = CausalConvStack(32, receptive_field=100)   # 7 layers, receptive field 128
    stack(np.zeros((4, 100, 3), "float32")).shape       # (4, 32)
    ```
    """

    def __init__(self, units, receptive_field, kernel_size=2, return_sequences=False, dropout=0.0,
                 **kwargs):
        _check_units(units)
        if not isinstance(receptive_field, (int, np.integer)) or receptive_field < 1:
            raise ValueError("Received an invalid value for argument `receptive_field`, expected a "
                             f"positive integer, got {receptive_field!r}.")
        if not isinstance(kernel_size, (int, np.integer)) or kernel_size < 2:
            raise ValueError("Received an invalid value for argument `kernel_size`, expected an "
                             f"integer >= 2, got {kernel_size!r}.")
        super().__init__(**kwargs)
        self.units, self.receptive_field, self.kernel_size = int(units), int(receptive_field), kernel_size
        self.return_sequences, self.dropout = return_sequences, dropout
        self.supports_masking = True
        layers = max(1, math.ceil(math.log2((self.receptive_field - 1) / (kernel_size - 1) + 1)))
        self.project = keras.layers.Dense(self.units, name="project")  # features -> units
        self.convolutions = [
            keras.layers.Conv1D(self.units, kernel_size, padding="causal", dilation_rate=2**i,
                                activation="relu", name=f"causal_conv_{i}")
            for i in range(layers)
        ]
        self.drop = keras.layers.Dropout(dropout)

    def build(self, sequences_shape):
        _check_sequences_shape(sequences_shape)
        self.project.build(sequences_shape)
        for convolution in self.convolutions:
            convolution.build((*sequences_shape[:-1], self.units))

    def call(self, sequences, mask=None, training=False):
        if mask is not None:
            sequences = sequences * tf.cast(mask, sequences.dtype)[:, :, None]
        h = self.project(sequences)
        for convolution in self.convolutions:
            h = h + self.drop(convolution(h), training=training)
        if self.return_sequences:
            return h
        if mask is None:
            return h[:, -1]
        last = tf.maximum(tf.reduce_sum(tf.cast(mask, tf.int32), axis=1) - 1, 0)
        return tf.gather(h, last, axis=1, batch_dims=1)

    def compute_mask(self, sequences, mask=None):
        return mask if self.return_sequences else None

    def compute_output_shape(self, sequences_shape):
        if self.return_sequences:
            return (*sequences_shape[:-1], self.units)
        return (sequences_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "receptive_field": self.receptive_field,
                "kernel_size": self.kernel_size, "return_sequences": self.return_sequences,
                "dropout": self.dropout}
