"""Backpropagation through time for the vanilla RNN, written out (`rnn-notes.md` section 2).

    a_t = x_t W_xh + h_{t-1} W_hh + b          h_t = phi(a_t)

`bptt` runs the forward loop over whole sequences and defines its own backward pass:

    delta_t  = (dL/dh_t + delta_{t+1} W_hh^T) * phi'(a_t)
    dL/dW_xh = sum_t x_t^T delta_t     dL/dW_hh = sum_t h_{t-1}^T delta_t     dL/db = sum_t delta_t
    dL/dx_t  = delta_t W_xh^T          dL/dh_0  = delta_1 W_hh^T

The input projection of all steps is one matrix product, and so are the three weight gradients;
only the two recurrences (forward over h, backward over delta) run step by step.
`zoo.layers.vanilla.VanillaRNN` is the Keras layer around it.

This module imports Keras and TensorFlow only.
"""

import os

import keras
import tensorflow as tf

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
