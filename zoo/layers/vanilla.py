"""The vanilla RNN, written out: a cell and a whole-sequence layer with hand-written BPTT.

    a_t = x_t W_xh + h_{t-1} W_hh + b          h_t = phi(a_t)

`VanillaRNNCell` is one step, for `keras.layers.RNN`. `VanillaRNN` runs the time loop itself
and defines its own backward pass (backpropagation through time, `rnn-notes.md` section 2): the
forward loop and the delta recursion are `zoo.layers.bptt`.

This module imports Keras and TensorFlow only (NumPy, and the zoo's `checks` and `compat`, which
import nothing heavier).
"""

import importlib

import keras
import numpy as np
import tensorflow as tf

from zoo import compat
from zoo.layers.bptt import bptt
from zoo.layers.checks import _check_sequences_shape, _check_units

NON_ELEMENTWISE = ("softmax", "log_softmax")


def _get_activation(activation):
    """Keras activation from a name or callable; ValueError that lists the choices otherwise."""
    if activation in NON_ELEMENTWISE:
        raise ValueError(
            "Received an invalid value for argument `activation`, expected an elementwise "
            f"activation such as 'tanh', 'relu' or 'linear', got {activation!r} (not elementwise)."
        )
    try:
        return keras.activations.get(activation)
    except (ValueError, TypeError):
        raise ValueError(
            "Received an invalid value for argument `activation`, expected 'tanh', 'relu', "
            f"another Keras activation name or a callable, got {activation!r}."
        ) from None


@keras.saving.register_keras_serializable(package="zoo")
class VanillaRNNCell(keras.layers.Layer, compat.DropoutRNNCell):
    """One step of a vanilla RNN: `h_t = phi(x_t W_xh + h_{t-1} W_hh + b)`.

    Use it inside `keras.layers.RNN`, which runs the loop and leaves the gradient to autodiff.
    `VanillaRNN` runs the same cell's math with a hand-written backward pass.

    Args:
        units: Positive integer, size H of the state h_t.
        activation: phi. `"tanh"` (default), `"relu"`, or any elementwise Keras activation.
        use_bias: Whether to add the bias b. Default: `True`.
        kernel_initializer: Initializer for W_xh ([features, units]). Default: `"glorot_uniform"`.
        recurrent_initializer: Initializer for W_hh ([units, units]). Default: `"orthogonal"`
            (spectral radius 1). `keras.initializers.Identity()` gives the IRNN of Le, Jaitly &
            Hinton (2015); `keras.initializers.Orthogonal(gain=rho)` an orthogonal matrix of
            spectral radius exactly rho (every eigenvalue of an orthogonal matrix has modulus 1).
        bias_initializer: Initializer for b ([units]). Default: `"zeros"`.
        dropout: Float in [0, 1), fraction of the inputs x_t dropped in training; one mask per
            sequence, shared by all steps (as in `SimpleRNNCell`). Default: 0.
        seed: Random seed for dropout.

    Call arguments:
        sequence: x_t, a 2-D tensor [batch, features].
        states: h_{t-1}, a 2-D tensor [batch, units] (or a list holding it).
        training: Whether dropout applies.

    Example:

    ```python
    inputs = np.random.random((32, 10, 8)).astype("float32")
    rnn = keras.layers.RNN(VanillaRNNCell(4, activation="relu"), return_sequences=True)
    outputs = rnn(inputs)  # [32, 10, 4]
    ```
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        seed=None,
        **kwargs,
    ):
        _check_units(units)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(
                "Received an invalid value for argument `dropout`, expected a float in [0, 1), "
                f"got {dropout!r}."
            )
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = _get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.dropout = float(dropout)
        self.recurrent_dropout = 0.0  # read by DropoutRNNCell; the state is never dropped
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), name="kernel", initializer=self.kernel_initializer
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,), name="bias", initializer=self.bias_initializer
            )

    def call(self, sequence, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        dropout_mask = self.get_dropout_mask(sequence)
        if training and dropout_mask is not None:
            sequence = sequence * dropout_mask
        a = keras.ops.matmul(sequence, self.kernel) + keras.ops.matmul(h_prev, self.recurrent_kernel)
        if self.bias is not None:
            a = a + self.bias
        h = self.activation(a)
        return h, [h] if isinstance(states, (list, tuple)) else h

    def get_initial_state(self, batch_size=None):
        return [keras.ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "dropout": self.dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


def _package_parallel_parts(batch_size):
    """`zoo.layers._parallel_parts` (that is `zoo.layers.bptt._parallel_parts`), looked up on the
    package when the layer is traced: the package's name is the one place to patch the number of
    batch parts (tests/test_layers.py does so)."""
    return importlib.import_module(__package__)._parallel_parts(batch_size)


@keras.saving.register_keras_serializable(package="zoo")
class VanillaRNN(keras.layers.RNN):
    """Vanilla RNN over whole sequences, trained with hand-written backpropagation through time.

    Same arguments, weights (`kernel`, `recurrent_kernel`, `bias`, in that `get_weights()`
    order), masking and outputs as `keras.layers.SimpleRNN`, so `set_weights` moves weights
    between the two; the forward loop and the backward pass are `zoo.layers.bptt.bptt`.

    Args:
        units: Positive integer, size H of the state.
        activation: phi. `"tanh"` (default), `"relu"`, or any elementwise Keras activation.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer, dropout, seed:
            as in `VanillaRNNCell`.
        bptt_steps: `None` (default) for full BPTT, or a positive integer k for truncated BPTT:
            the gradient reaching step t from the loss at step s is exactly zero when s - t > k.
        return_sequences: Return the output of every step [batch, time, units] rather than the
            last one [batch, units]. Default: `False`.
        return_state: Also return the last state [batch, units]. Default: `False`.
        go_backwards: Process the sequence backwards and return the reversed sequence.
        stateful: Carry the last state of each sample to the next batch.
        zero_output_for_mask: Output zeros (rather than the last output) at masked steps.

    Call arguments:
        sequences: [batch, time, features].
        initial_state: [batch, units] (or a one-element list), default zeros.
        mask: [batch, time] bool; a masked step keeps the state and repeats the last output.
        training: Whether dropout applies.

    Example:

    ```python
    inputs = np.random.random((32, 10, 8)).astype("float32")
    outputs, state = VanillaRNN(4, return_sequences=True, return_state=True)(inputs)
    # outputs: [32, 10, 4]; state: [32, 4]
    bi = keras.layers.Bidirectional(VanillaRNN(4, activation="relu", bptt_steps=5))
    bi(inputs)  # [32, 8]
    ```
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        seed=None,
        bptt_steps=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
        if bptt_steps is not None and (
            not isinstance(bptt_steps, (int, np.integer)) or isinstance(bptt_steps, bool)
            or bptt_steps <= 0
        ):
            raise ValueError(
                "Received an invalid value for argument `bptt_steps`, expected None (full BPTT) "
                f"or a positive integer, got {bptt_steps!r}."
            )
        cell = VanillaRNNCell(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="vanilla_rnn_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            **kwargs,
        )
        self.bptt_steps = None if bptt_steps is None else int(bptt_steps)
        self._flow_tape = None
        self.gradient_flow_probe = None

    def watch_gradient_flow(self, tape):
        """Report ||dL/dh_t|| per step from this layer's own backward pass, in the next call.

        After `tape.watch`-ing calls (eager), `tape.gradient(loss, layer.gradient_flow_probe)` is
        the batch mean of ||dL/dh_t|| for every step t, [time], in processing order (reversed for
        go_backwards; truncated with bptt_steps). `watch_gradient_flow(None)` turns it off.
        `zoo.diagnostics.gradient_flow` does this for every recurrent layer of a model.
        """
        self._flow_tape = tape

    @property
    def units(self):
        return self.cell.units

    def as_simple_rnn(self):
        """A `keras.layers.SimpleRNN` that computes what this layer computes (the same step, weights
        and masking; tests/test_layers.py proves them equal), for tools that cannot read this layer's
        compiled loop, such as ONNX conversion (zoo.export). Built and holding this layer's weights
        when this layer is built."""
        twin = keras.layers.SimpleRNN(
            self.units, activation=self.cell.get_config()["activation"], use_bias=self.cell.use_bias,
            return_sequences=self.return_sequences, return_state=self.return_state,
            go_backwards=self.go_backwards, stateful=self.stateful, name=self.name, dtype=self.dtype_policy,
        )
        twin.zero_output_for_mask = self.zero_output_for_mask
        if self.built:
            twin.build((None, None, self.cell.kernel.shape[0]))
            twin.set_weights(self.get_weights())
        return twin

    def build(self, sequences_shape, initial_state_shape=None):
        _check_sequences_shape(sequences_shape)
        super().build(sequences_shape, initial_state_shape)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """Replaces `keras.layers.RNN`'s loop; returns (last_output, outputs, [last_state]).

        Keras does not document `inner_loop` as public: see "VanillaRNN.inner_loop" in
        `zoo.compat.WORKAROUNDS`."""
        _check_sequences_shape(sequences.shape)
        cell = self.cell
        dropout_mask = cell.get_dropout_mask(sequences[:, 0, :])
        if training and dropout_mask is not None:
            sequences = sequences * dropout_mask[:, None, :]
        x = sequences
        if mask is not None:
            mask = tf.cast(mask, tf.bool)
        if self.go_backwards:
            x = tf.reverse(x, [1])
            mask = None if mask is None else tf.reverse(mask, [1])
        h0 = initial_state[0] if isinstance(initial_state, (list, tuple)) else initial_state
        weights = [tf.convert_to_tensor(cell.kernel), tf.convert_to_tensor(cell.recurrent_kernel),
                   None if cell.bias is None else tf.convert_to_tensor(cell.bias)]

        probe = None
        if self._flow_tape is not None:
            probe = self.gradient_flow_probe = tf.zeros(tf.shape(x)[1:2], dtype=x.dtype)
            self._flow_tape.watch(probe)

        def run(x, h0, mask):
            """bptt on batch-major tensors: [batch, time, features] -> [batch, time, units]."""
            time_major = lambda t: tf.transpose(t, [1, 0, 2])  # noqa: E731
            states = bptt(
                time_major(x), h0, *weights,
                mask=None if mask is None else tf.transpose(mask),
                activation=cell.activation, bptt_steps=self.bptt_steps, flow_probe=probe,
            )
            return time_major(states)

        parts = 1 if probe is not None else _package_parallel_parts(x.shape[0])
        if parts == 1:
            states = run(x, h0, mask)
        else:  # rows are independent: one part of the batch per core, forward and backward
            batch = tf.shape(x)[0]
            sizes = tf.stack([(batch + i) // parts for i in range(parts)])  # they sum to batch
            split = lambda t: [None] * parts if t is None else tf.split(t, sizes, num=parts)  # noqa: E731
            states = tf.concat([run(*part) for part in zip(split(x), split(h0), split(mask))], 0)

        outputs = states
        if mask is not None:
            # Keras RNNs repeat the last output at a masked step (zeros before the first
            # unmasked one), or output zeros with zero_output_for_mask.
            shown = mask if self.zero_output_for_mask else tf.cumsum(tf.cast(mask, tf.int32), 1) > 0
            outputs = states * tf.cast(shown, states.dtype)[:, :, None]
        return outputs[:, -1], outputs, [states[:, -1]]

    def get_config(self):
        config = {**self.cell.get_config(), "bptt_steps": self.bptt_steps}
        for key in ("name", "trainable", "dtype"):  # the layer's own, not the cell's
            config.pop(key, None)
        base_config = super().get_config()
        del base_config["cell"]
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
