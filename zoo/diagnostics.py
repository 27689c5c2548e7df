"""The evidence for vanishing and exploding gradients, measured during training.

- `GradientMonitor` (defined in zoo.layers.monitor, importable from here too): trains a model as
  Keras's own train step does, and reports each step's global gradient norm before the optimizer
  clips it (`grad_norm`) and, per epoch, the share of steps where the optimizer's clipping
  changed the update (`clipped_fraction`).
- `SpectralRadius`: the largest |eigenvalue| of each vanilla layer's recurrent kernel, per epoch.
- `GradientFlow`: ||dL/dh_t|| at every step t on one fixed batch, a few times per run.
- `NaNGuard`: stops training at the first non-finite loss or gradient norm and says where.

They report numbers (into Keras logs or attributes); zoo.tracking logs them.
"""

import contextlib

import keras
import numpy as np
import tensorflow as tf

from zoo import compat
from zoo.layers import VanillaRNN
from zoo.layers import GradientMonitor  # noqa: F401  (re-exported: zoo.train, tests, benchmarks)


def recurrent_layers(model):
    """Every recurrent layer in `model` (both directions of a Bidirectional), in order."""
    return [layer for layer in compat.flatten_layers(model)
            if isinstance(layer, keras.layers.RNN)]


def _measured(matrix, measure):
    """measure(matrix) of the matrix as float64, or nan once training has made it non-finite."""
    matrix = np.asarray(matrix, dtype="float64")
    return float(measure(matrix)) if np.isfinite(matrix).all() else float("nan")


def spectral_radius(matrix):
    """Largest absolute eigenvalue of a square matrix (nan once training has made it non-finite)."""
    return _measured(matrix, lambda m: np.max(np.abs(np.linalg.eigvals(m))))


def spectral_norm(matrix):
    """Largest singular value of a matrix: the most a step can stretch a state (nan once non-finite)."""
    return _measured(matrix, lambda m: np.linalg.norm(m, 2))


def _bumped_inner_loop(layer, tape, bumps):
    """A step-by-step eager loop for a Keras RNN layer that adds a watched zero bump_t to h_t,
    so that dL/d(bump_t) is the total dL/dh_t (through the output and all later steps)."""

    def inner_loop(sequences, initial_state, mask, training=False):
        states = list(initial_state)
        output = tf.zeros_like(states[0])  # Keras's output before the first unmasked step
        outputs = []
        steps = range(sequences.shape[1])
        for t in reversed(steps) if layer.go_backwards else steps:
            h, new_states = layer.cell(sequences[:, t], states, training=training)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            bump = tf.zeros_like(h)
            tape.watch(bump)
            bumps.append(bump)
            h = new_states[0] = h + bump  # h_t is the output and the first state of every cell
            if mask is not None:
                keep = mask[:, t][:, None]
                h = tf.where(keep, h, tf.zeros_like(h) if layer.zero_output_for_mask else output)
                new_states = [tf.where(keep, new, old) for new, old in zip(new_states, states)]
            output, states = h, new_states
            outputs.append(h)
        outputs = tf.stack(outputs, axis=1)
        return outputs[:, -1], outputs, states

    return inner_loop


def gradient_flow(model, inputs, targets, loss):
    """Batch mean of ||dL/dh_t|| at every step t of every recurrent layer of `model`.

    VanillaRNN layers report it from their own backward pass; other Keras RNN layers (SimpleRNN,
    GRU, LSTM) are run step by step for this one batch and differentiated by autodiff. Eager.

    Returns:
        {layer.path: numpy array [time]}, steps in processing order (for a go_backwards layer,
        index 0 is the last input step), so the distance to the last step is time - 1 - index.
    """
    layers = recurrent_layers(model)
    bumps = {layer.path: [] for layer in layers}
    with tf.GradientTape() as tape, contextlib.ExitStack() as restore:
        for layer in layers:
            if isinstance(layer, VanillaRNN):
                layer.watch_gradient_flow(tape)
                restore.callback(layer.watch_gradient_flow, None)
            else:
                loop = _bumped_inner_loop(layer, tape, bumps[layer.path])
                restore.enter_context(compat.swapped_inner_loop(layer, loop))
        value = loss(targets, model(inputs, training=False))
    sources = {layer.path: layer.gradient_flow_probe if isinstance(layer, VanillaRNN)
               else bumps[layer.path] for layer in layers}
    gradients = tape.gradient(value, sources)
    flow = {}
    for path, gradient in gradients.items():
        if isinstance(gradient, list):  # dL/d(bump_t) for each step: [batch, units]
            gradient = [np.linalg.norm(g.numpy(), axis=-1).mean() for g in gradient]
        flow[path] = np.asarray(gradient, dtype="float64")
    return flow


class SpectralRadius(keras.callbacks.Callback):
    """Adds `spectral_radius/<layer>` (largest |eigenvalue| of W_hh) for every vanilla layer
    (VanillaRNN, SimpleRNN) to each epoch's logs. Below 1 gradients vanish, above 1 they can
    explode (rnn-notes.md section 3)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def on_epoch_end(self, epoch, logs=None):
        for layer in recurrent_layers(self.net):
            if isinstance(layer, (VanillaRNN, keras.layers.SimpleRNN)):
                logs[f"spectral_radius/{layer.path}"] = spectral_radius(layer.cell.recurrent_kernel.numpy())


class GradientFlow(keras.callbacks.Callback):
    """Samples `gradient_flow` on one fixed batch before training and after evenly spaced
    epochs, `samples` times in all. `snapshots`: list of (epochs trained, {layer: norms [time]})."""

    def __init__(self, net, inputs, targets, loss, epochs, samples):
        super().__init__()
        self.net, self.inputs, self.targets, self.loss = net, inputs, targets, loss
        self.at_epochs = sorted({round(i * epochs / max(1, samples - 1)) for i in range(samples)})
        self.snapshots = []
        self.restored = None  # the snapshots of a resumed run, taken before it stopped

    def sample(self, epochs_trained):
        if epochs_trained in self.at_epochs:
            flow = gradient_flow(self.net, self.inputs, self.targets, self.loss)
            self.snapshots.append((epochs_trained, flow))

    def on_train_begin(self, logs=None):
        if self.restored is not None:
            self.snapshots = list(self.restored)
        else:
            self.snapshots = []
            self.sample(0)

    def on_epoch_end(self, epoch, logs=None):
        self.sample(epoch + 1)


class PretrainedSchedule(keras.callbacks.Callback):
    """The share of the optimizer's update that the carried (pretrained) layers take each epoch:
    0 for the first `freeze_epochs` (the new layers train alone), then `scale`. Sets it at each
    epoch's beginning, so a resumed run gets the share of the epoch it resumes."""

    def __init__(self, monitor, freeze_epochs, scale):
        super().__init__()
        self.carried, self.freeze_epochs, self.scale = monitor._carried, freeze_epochs, scale

    def on_epoch_begin(self, epoch, logs=None):
        self.carried.scale.assign(0.0 if epoch < self.freeze_epochs else self.scale)


class NaNGuard(keras.callbacks.TerminateOnNaN):
    """TerminateOnNaN that also watches the gradient norm, and remembers where training
    stopped: `nan_step` (1-based training step) and `nan_cause` (one line). `step` counts the
    training steps, from `initial_step` (those of a resumed run before it stopped)."""

    initial_step = 0

    def on_train_begin(self, logs=None):
        self.step, self.epoch = self.initial_step, 0
        self.nan_step = self.nan_cause = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        for key, what in (("loss", "loss"), ("grad_norm", "gradient norm")):
            value = (logs or {}).get(key)
            if value is not None and not np.isfinite(float(value)):
                self.nan_step = self.step
                self.nan_cause = (f"{what} is {float(value)} at training step {self.step} "
                                  f"(epoch {self.epoch + 1}, batch {batch + 1})")
                self.model.stop_training = True
                return


def gradient_decay(activation, radius, length=50, units=64, features=8, batch=32, seed=0,
                   dtype="float32"):
    """How the gradient of a loss at the last step shrinks or grows going back in time, at
    initialisation: ||dL/dh_{T-1-d}|| / ||dL/dh_{T-1}|| for distance d = 0..T-1 (batch means).

    A VanillaRNN with `activation` and its recurrent kernel orthogonal scaled to spectral radius
    `radius`; inputs and the loss direction are standard normal. For the linear activation every
    step multiplies the norm by exactly `radius` (rnn-notes.md section 3).
    """
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inputs = keras.Input((length, features), dtype=dtype)
    layer = VanillaRNN(units, activation=activation, dtype=dtype,
                       recurrent_initializer=keras.initializers.Orthogonal(gain=radius, seed=seed))
    model = keras.Model(inputs, layer(inputs))
    x = rng.normal(size=(batch, length, features)).astype(dtype)
    direction = rng.normal(size=(batch, units)).astype(dtype)
    (norms,) = gradient_flow(model, x, direction, lambda y, h: tf.reduce_sum(y * h)).values()
    by_distance = norms[::-1]
    return by_distance / by_distance[0]
