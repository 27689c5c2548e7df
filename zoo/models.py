"""Models for the topologies of rnn-notes.md section 1, built from a Config.

    adding      many-to-one regression    inputs [batch, time, 2]  -> [batch, 1]
    copy        many-to-many classifier   symbols [batch, time]    -> symbol logits [batch, time, 10]
    sentiment   many-to-one classifier    token ids [batch, time] -> class logits [batch, classes]
    pos         many-to-many tagger       token ids [batch, time] -> tag logits [batch, time, tags]
    lm          language model            token ids [batch, time] -> next-token logits [batch, time, vocab]

Token inputs of sentiment and pos use id 0 for padding: the embedding masks it, the recurrent
layers skip it, and the loss and metrics exclude it (language model and copy task: no padding).
"""

import keras
import tensorflow as tf
from keras import ops

from zoo.layers import CausalConvStack, VanillaRNN

TASK_METRIC = {"adding": "mse", "copy": "accuracy", "sentiment": "accuracy", "pos": "accuracy",
               "lm": "perplexity"}


@keras.saving.register_keras_serializable(package="zoo")
class PositiveClassAUC(keras.metrics.AUC):
    """ROC AUC of a two-class classifier that outputs logits: scores are softmax(logits)[:, 1]."""

    def __init__(self, name="auc", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(y_true, ops.softmax(y_pred)[:, 1], sample_weight=sample_weight)


@keras.saving.register_keras_serializable(package="zoo")
class MaskedMean(keras.layers.Layer):
    """Mean over the unmasked steps: [batch, time, units] -> [batch, units]; zeros for a sequence
    with no unmasked step (keras.layers.GlobalAveragePooling1D gives 0 / 0 = nan there, and an
    SST-2 phrase of punctuation alone is such a sequence)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.sum(inputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)

    def compute_mask(self, inputs, mask=None):
        return None


def sparse_cross_entropy(labels, logits):
    """-log softmax(logits)[label] per position: labels [...] (ids), logits [..., classes] -> [...].

    The value and gradient of tf.nn.sparse_softmax_cross_entropy_with_logits, from a softmax
    and one scatter. That op's fused CPU kernel takes 28 ms on the PTB model's [20, 35, 10001]
    logits; the model's output layer and loss took 56.4 ms forward and backward with it, 42.3
    with this (32.7 and 16.4 forward only).
    """
    labels = tf.cast(labels, "int32")

    @tf.custom_gradient
    def cross_entropy(logits):
        shifted = logits - tf.reduce_max(logits, axis=-1, keepdims=True)
        exp = tf.exp(shifted)
        total = tf.reduce_sum(exp, axis=-1, keepdims=True)
        loss = tf.math.log(total[..., 0]) - tf.gather(shifted, labels, batch_dims=labels.shape.rank)

        def gradient(upstream):  # upstream * (softmax - one_hot(label)), without the one-hot
            rows = tf.reshape(exp * (upstream[..., None] / total), [-1, tf.shape(logits)[-1]])
            at_labels = tf.stack([tf.range(tf.shape(rows)[0]), tf.reshape(labels, [-1])], axis=1)
            rows = tf.tensor_scatter_nd_sub(rows, at_labels, tf.reshape(upstream, [-1]))
            return tf.reshape(rows, tf.shape(logits))

        return loss, gradient

    return cross_entropy(logits)


@keras.saving.register_keras_serializable(package="zoo")
class SparseCrossEntropy(keras.losses.Loss):
    """keras.losses.SparseCategoricalCrossentropy(from_logits=True) through `sparse_cross_entropy`:
    the same loss, faster for a large vocabulary (the language model's). Integer labels [batch,
    ...], logits [batch, ..., classes]."""

    def __init__(self, name="sparse_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return sparse_cross_entropy(y_true, y_pred)


def recurrent_initializer(config):
    """The recurrent kernel's initializer; spectral_radius scales the orthogonal and identity ones."""
    gain = config.spectral_radius
    return {
        "orthogonal": keras.initializers.Orthogonal(gain=gain, seed=config.seed),
        "identity": keras.initializers.Identity(gain=gain),
        "glorot_uniform": keras.initializers.GlorotUniform(seed=config.seed),
    }[config.recurrent_initializer]


def recurrent_layer(config, return_sequences, name, length, stateful=False, fixed_length=False):
    """One sequence layer of the configured cell, bidirectional if asked. length: the input's
    time steps (None if they vary), which a tcn's receptive field must cover; stateful: carry
    the last state of each row into the next batch (language model training); fixed_length:
    every input has `length` steps, so Keras's layers may unroll them (config.unroll)."""
    if config.cell == "tcn":
        return CausalConvStack(config.units, receptive_field=length or config.sequence_length,
                               return_sequences=return_sequences, dropout=config.dropout, name=name)
    common = dict(return_sequences=return_sequences, dropout=config.dropout, seed=config.seed,
                  recurrent_initializer=recurrent_initializer(config), stateful=stateful, name=name)
    unroll = config.unroll and fixed_length
    if config.cell == "vanilla":  # its loop is compiled (zoo.layers.bptt); nothing to unroll
        layer = VanillaRNN(config.units, activation=config.activation, bptt_steps=config.bptt_steps, **common)
    elif config.cell == "vanilla_keras":
        layer = keras.layers.SimpleRNN(config.units, activation=config.activation, unroll=unroll, **common)
    elif config.cell == "gru":
        layer = keras.layers.GRU(config.units, unroll=unroll, **common)
    else:
        layer = keras.layers.LSTM(config.units, unroll=unroll, **common)
    return keras.layers.Bidirectional(layer, name=f"bi_{name}") if config.bidirectional else layer


def build(config, data, stateful=None):
    """The keras.Model of `config.task` for `data` (a zoo.data.Data).

    A language model trains stateful (Zaremba et al.): its input has the fixed shape [batch_size,
    sequence_length] and each recurrent layer carries its state from batch to batch (and unrolls
    its steps if config.unroll). With stateful=False it is the same network, with the same weights,
    for any batch and length, for generation and export.
    """
    if stateful is None:
        stateful = config.task == "lm" and config.cell != "tcn"
    if config.task == "adding":
        inputs = keras.Input(data.input_shape, name="sequence")
        x = inputs
    elif stateful:
        inputs = keras.Input(batch_shape=(config.batch_size, *data.input_shape), dtype="int32", name="tokens")
    else:
        shape = (None,) if config.task == "lm" and config.cell != "tcn" else data.input_shape
        inputs = keras.Input(shape, dtype="int32", name="tokens")
    if config.task != "adding":
        x = keras.layers.Embedding(data.vocab_size, config.embedding_size,
                                   mask_zero=config.task in ("sentiment", "pos"), name="embedding")(inputs)
    many_to_one = config.task in ("adding", "sentiment")
    for i in range(config.layers):
        last = i == config.layers - 1
        keep_sequence = not (last and many_to_one and config.pooling == "last")
        x = recurrent_layer(config, keep_sequence, f"{config.cell}_{i}", data.input_shape[0], stateful,
                            fixed_length=inputs.shape[1] is not None)(x)
    if many_to_one and config.pooling == "mean":
        x = MaskedMean(name="mean_over_time")(x)  # skips masked steps
    outputs = keras.layers.Dense(data.num_outputs, name="head")(x)
    return keras.Model(inputs, outputs, name=f"{config.task}_{config.cell}")


def loss_and_metrics(config):
    """The loss and the task's metrics: MSE, accuracy (and AUC), or none for a language model:
    its perplexity is exp of the mean loss (zoo.diagnostics.GradientMonitor reports it), and its
    cross-entropy over the whole vocabulary is SparseCrossEntropy."""
    if config.task == "adding":
        return keras.losses.MeanSquaredError(), [keras.metrics.MeanSquaredError(name="mse")]
    if config.task == "lm":
        return SparseCrossEntropy(), []
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    if config.task == "sentiment":
        return loss, [accuracy, PositiveClassAUC()]
    return loss, [accuracy]


def optimizer(config):
    """The configured optimizer with Keras's own clipping option for config.clipping."""
    clip = {"none": {}, "value": {"clipvalue": config.clip_threshold},
            "norm": {"clipnorm": config.clip_threshold},
            "global_norm": {"global_clipnorm": config.clip_threshold}}[config.clipping]
    kind = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
            "rmsprop": keras.optimizers.RMSprop}[config.optimizer]
    return kind(learning_rate=config.learning_rate, **clip)
