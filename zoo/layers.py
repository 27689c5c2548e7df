"""The vanilla RNN, written out: a cell and a whole-sequence layer with hand-written BPTT.

    a_t = x_t W_xh + h_{t-1} W_hh + b          h_t = phi(a_t)

`VanillaRNNCell` is one step, for `keras.layers.RNN`. `VanillaRNN` runs the time loop itself
and defines its own backward pass (backpropagation through time, `rnn-notes.md` section 2):

    delta_t  = (dL/dh_t + delta_{t+1} W_hh^T) * phi'(a_t)
    dL/dW_xh = sum_t x_t^T delta_t     dL/dW_hh = sum_t h_{t-1}^T delta_t     dL/db = sum_t delta_t
    dL/dx_t  = delta_t W_xh^T          dL/dh_0  = delta_1 W_hh^T

The input projection of all steps is one matrix product, and so are the three weight gradients;
only the two recurrences (forward over h, backward over delta) run step by step.

This module imports Keras and TensorFlow only.
"""

import math
import os

import keras
import numpy as np
import tensorflow as tf

# Keras keeps the mixin that caches one input-dropout mask for all steps private; it is what
# `keras.layers.RNN` looks for to give a cell the same dropout semantics as SimpleRNNCell.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

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


def _check_units(units):
    if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
        raise ValueError(
            "Received an invalid value for argument `units`, expected a positive integer, "
            f"got {units!r}."
        )


def _check_sequences_shape(shape):
    if len(shape) != 3:
        raise ValueError(
            "Received an invalid value for argument `sequences`, expected a 3-D tensor "
            f"[batch, time, features], got shape {tuple(shape)}."
        )


@keras.saving.register_keras_serializable(package="zoo")
class VanillaRNNCell(keras.layers.Layer, DropoutRNNCell):
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


# phi'(a) written through h = phi(a), for the activations where that is possible; any other
# elementwise phi keeps its pre-activations and differentiates them with autodiff.
DERIVATIVE_FROM_STATE = {
    keras.activations.tanh: lambda h: 1.0 - h * h,
    keras.activations.relu: lambda h: tf.cast(h > 0, h.dtype),
    keras.activations.linear: tf.ones_like,
}


def _derivative_from_preactivations(activation, preactivations):
    """phi'(a) for an elementwise phi: the gradient of sum(phi(a)) with respect to a."""
    with tf.GradientTape() as tape:
        tape.watch(preactivations)
        total = tf.reduce_sum(activation(preactivations))
    return tape.gradient(total, preactivations)


# Only the two recurrences run step by step. They are compiled with XLA whether or not the
# surrounding model is (a graph-mode loop pays executor overhead on every op of every step); the
# all-steps products stay plain TensorFlow matmuls, whose CPU kernels are faster than XLA's here.


@tf.function(jit_compile=True)
def _forward_recurrence(projected, h0, recurrent_kernel, bias, steps_mask, activation,
                        keep_preactivations):
    """h_t = phi(projected_t + h_{t-1} W_hh + b), or h_{t-1} where steps_mask_t is 0.

    projected: x_t W_xh, [time, batch, units]; steps_mask: [time, batch, 1] or None.
    Returns the states [time, batch, units] (and the pre-activations a_t, if asked).
    """

    def step(carry, inputs):
        h_prev = carry[0]
        a = inputs[0] + tf.matmul(h_prev, recurrent_kernel)
        if bias is not None:
            a += bias
        h = activation(a)
        if steps_mask is not None:
            h = tf.where(inputs[1] > 0, h, h_prev)
        return (h, a) if keep_preactivations else (h,)

    elems = (projected,) if steps_mask is None else (projected, steps_mask)
    init = (h0, tf.zeros_like(h0)) if keep_preactivations else (h0,)
    return tf.scan(step, elems, initializer=init)


@tf.function(jit_compile=True)
def _backward_recurrence(d_states, states, derivative, recurrent_kernel, steps_mask, activation,
                         bptt_steps, with_norms):
    """The delta recursion, from the last step to the first.

    d_states: dL/dh_t from outside the recurrence; states: h_t; derivative: phi'(a_t), or None
    to compute it step by step from h_t; all [time, batch, units]. Returns delta_t [time, batch,
    units], dL/dh_0 [batch, units], and the batch mean of ||dL/dh_t|| per step [time] (zeros
    unless with_norms).
    """
    length = d_states.shape[0] if d_states.shape[0] is not None else tf.shape(d_states)[0]
    recurrent_t = tf.transpose(recurrent_kernel)

    def back_one_step(g, derivative_t, mask_t):
        """Gradient on h_{t-1} from gradient g [..., batch, units] on h_t."""
        d_prev = tf.matmul(g * derivative_t, recurrent_t)
        return d_prev if mask_t is None else d_prev + g * (1.0 - mask_t)

    def body(t, carry, deltas, norms):
        if derivative is None:
            derivative_t = DERIVATIVE_FROM_STATE[activation](states[t])
        else:
            derivative_t = derivative[t]
        mask_t = None
        if steps_mask is not None:  # a masked step keeps h_{t-1}: its gradient passes through
            mask_t = steps_mask[t]
            derivative_t *= mask_t
        if bptt_steps is None:
            g = d_states[t] + carry  # own loss + everything from later steps
            carry = back_one_step(g, derivative_t, mask_t)
        else:
            # by_age[i]: gradient on h_t from the loss at step t + i, i = 0..k
            by_age = tf.concat([d_states[t][None], carry], axis=0)
            g = tf.reduce_sum(by_age, axis=0)
            carry = back_one_step(by_age[:-1], derivative_t, mask_t)
        deltas = deltas.write(t, g * derivative_t)
        if with_norms:
            norms = norms.write(t, tf.reduce_mean(tf.norm(g, axis=-1)))
        return t - 1, carry, deltas, norms

    if bptt_steps is None:
        carry = tf.zeros_like(d_states[0])
    else:  # no gradient can be older than the sequence is long
        ages = bptt_steps if d_states.shape[0] is None else min(bptt_steps, d_states.shape[0])
        carry = tf.zeros(tf.concat([[ages], tf.shape(d_states)[1:]], 0), dtype=d_states.dtype)
    deltas = tf.TensorArray(d_states.dtype, size=length, element_shape=d_states.shape[1:])
    norms = tf.TensorArray(d_states.dtype, size=length, element_shape=())
    _, carry, deltas, norms = tf.while_loop(
        lambda t, *_: t >= 0, body, (length - 1, carry, deltas, norms), maximum_iterations=length
    )
    d_h0 = carry if bptt_steps is None else tf.reduce_sum(carry, axis=0)
    norms = norms.stack() if with_norms else tf.zeros([length], d_states.dtype)
    return deltas.stack(), d_h0, norms


MIN_ROWS_PER_PART = 16
MAX_PARTS = 4


def _parallel_parts(batch_size):
    """How many parts of a batch to run concurrently: one per core TensorFlow can run ops on,
    at most MAX_PARTS, each of at least MIN_ROWS_PER_PART rows when the batch size is known."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    inter_op = tf.config.threading.get_inter_op_parallelism_threads()  # 0: one per core
    parts = min(cores or 1, inter_op or MAX_PARTS, MAX_PARTS)
    if batch_size is not None:
        parts = min(parts, max(1, batch_size // MIN_ROWS_PER_PART))
    return parts


def _all_steps_matmul(a, b, transpose_a=False, transpose_b=False):
    """One matmul over all steps: [time, batch, m] x [m, n] -> [time, batch, n], or with
    transpose_a two [time, batch, .] tensors -> their sum over steps of a_t^T b_t."""
    a2 = tf.reshape(a, [-1, a.shape[-1]])
    if transpose_a:
        return tf.matmul(a2, tf.reshape(b, [-1, b.shape[-1]]), transpose_a=True)
    out = tf.matmul(a2, b, transpose_b=transpose_b)
    return tf.reshape(out, tf.concat([tf.shape(a)[:-1], tf.shape(out)[-1:]], 0))


def bptt(x, h0, kernel, recurrent_kernel, bias=None, mask=None, activation=keras.activations.tanh,
         bptt_steps=None, flow_probe=None):
    """Runs the vanilla RNN over whole sequences, with hand-written BPTT as its gradient.

    Args:
        x: inputs, time-major [time, batch, features].
        h0: initial state [batch, units].
        kernel: W_xh [features, units]; recurrent_kernel: W_hh [units, units]; bias: b [units] or None.
        mask: [time, batch] bool or None. A masked step keeps the previous state (as Keras RNNs do).
        activation: phi, an elementwise Keras activation.
        bptt_steps: None for full BPTT, or k: the loss at step s sends gradient back to steps
            s, s-1, ..., s-k only (Williams & Peng's truncated BPTT; it costs k+1 times the
            backward recurrence of full BPTT).
        flow_probe: None, or a zero tensor [time] watched by a tape; its gradient is then the
            batch mean of ||dL/dh_t|| at every step t, as this backward pass computes it.

    Returns:
        The state after every step, [time, batch, units].
    """
    steps_mask = None if mask is None else tf.cast(mask, x.dtype)[:, :, None]
    extras = [t for t in (bias, flow_probe) if t is not None]
    generic_phi = activation not in DERIVATIVE_FROM_STATE

    @tf.custom_gradient
    def forward(x, h0, kernel, recurrent_kernel, *extras):
        # The gradient is `backward`'s: keep autodiff from recording through the loop.
        x, h0, kernel, recurrent_kernel = map(tf.stop_gradient, (x, h0, kernel, recurrent_kernel))
        b = None if bias is None else tf.stop_gradient(extras[0])
        projected = _all_steps_matmul(x, kernel)  # x_t W_xh for all steps: one product
        scanned = _forward_recurrence(
            projected, h0, recurrent_kernel, b, steps_mask, activation, generic_phi
        )
        states = scanned[0]
        derivative = _derivative_from_preactivations(activation, scanned[1]) if generic_phi else None

        def backward(d_states):
            deltas, d_h0, norms = _backward_recurrence(
                d_states, states, derivative, recurrent_kernel, steps_mask, activation,
                bptt_steps, flow_probe is not None,
            )
            # sum_t h_{t-1}^T delta_t, split at t = 0 so that no shifted copy of the states is made
            d_recurrent = _all_steps_matmul(states[:-1], deltas[1:], transpose_a=True)
            d_recurrent += tf.matmul(h0, deltas[0], transpose_a=True)
            grads = [
                _all_steps_matmul(deltas, kernel, transpose_b=True),  # dL/dx_t = delta_t W_xh^T
                d_h0,
                _all_steps_matmul(x, deltas, transpose_a=True),  # dL/dW_xh = sum_t x_t^T delta_t
                d_recurrent,  # dL/dW_hh
            ]
            if bias is not None:
                grads.append(tf.reduce_sum(deltas, axis=[0, 1]))  # dL/db = sum_t delta_t
            if flow_probe is not None:
                grads.append(norms)
            return grads

        return states, backward

    return forward(x, h0, kernel, recurrent_kernel, *extras)


@keras.saving.register_keras_serializable(package="zoo")
class VanillaRNN(keras.layers.RNN):
    """Vanilla RNN over whole sequences, trained with hand-written backpropagation through time.

    Same arguments, weights (`kernel`, `recurrent_kernel`, `bias`, in that `get_weights()`
    order), masking and outputs as `keras.layers.SimpleRNN`, so `set_weights` moves weights
    between the two; the forward loop and the backward pass are this module's `bptt`.

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

    def build(self, sequences_shape, initial_state_shape=None):
        _check_sequences_shape(sequences_shape)
        super().build(sequences_shape, initial_state_shape)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """Replaces `keras.layers.RNN`'s loop; returns (last_output, outputs, [last_state])."""
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

        parts = 1 if probe is not None else _parallel_parts(x.shape[0])
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
