"""`GradientMonitor`: trains a model as Keras's own train step does, and reports each step's
global gradient norm before the optimizer clips it (`grad_norm`) and, per epoch, the share of
steps where the optimizer's clipping changed the update (`clipped_fraction`).

It reports numbers into Keras logs; zoo.tracking logs them, zoo.diagnostics has the callbacks that
go with it.

This module imports Keras and TensorFlow only (and `zoo.compat`, which imports nothing heavier).
"""

import keras
import tensorflow as tf

from zoo import compat


class Carried:
    """Variables carried from a pretrained run and the share of each update they take."""

    def __init__(self, variables):
        self.variables = variables
        self.scale = tf.Variable(1.0, trainable=False, dtype="float32")


class Sampled:
    """A network's body (up to its head's input) and head, for the sampled softmax loss."""

    def __init__(self, net, num_sampled):
        self.head = net.get_layer("head")
        self.body = keras.Model(net.inputs, self.head.input, name=f"{net.name}_body")
        self.num_sampled = num_sampled

    def loss(self, x, y, training=True):
        """Mean sampled softmax cross-entropy of targets y [batch, time] (int) given inputs x."""
        hidden = self.body(x, training=training)
        units = hidden.shape[-1]
        losses = tf.nn.sampled_softmax_loss(
            weights=tf.transpose(self.head.kernel), biases=self.head.bias,
            labels=tf.reshape(tf.cast(y, "int64"), [-1, 1]), inputs=tf.reshape(hidden, [-1, units]),
            num_sampled=self.num_sampled, num_classes=self.head.units)
        return tf.reduce_mean(losses)


@keras.saving.register_keras_serializable(package="zoo")
def _divided(gradient, scale):
    """A gradient (dense, or IndexedSlices from an embedding) divided by the loss scale."""
    if isinstance(gradient, tf.IndexedSlices):
        return tf.IndexedSlices(gradient.values / tf.cast(scale, gradient.dtype), gradient.indices, gradient.dense_shape)
    return gradient / tf.cast(scale, gradient.dtype)


class GradientMonitor(keras.Model):
    """Wraps `net` for training: same forward, loss, metrics and optimizer step as Keras's
    train step, plus `grad_norm` (this step's global norm, before clipping) and
    `clipped_fraction` (this epoch's share of steps that the optimizer's clipping changed) in
    the logs. The optimizer clips (Keras's clipvalue, clipnorm or global_clipnorm, as compiled);
    this only detects it, from the same option. Compiled with a keras.optimizers.LossScaleOptimizer
    (mixed precision), the loss is scaled before the gradients as Keras's own train step does, and
    `grad_norm` and clipping are read from the unscaled gradients (0 on a step the optimizer skips
    because its scaled gradients overflowed).

    Args:
        net: the model to train (its weights are shared, not copied).
        perplexity: also report `perplexity` = exp(mean loss), for a loss that is the mean
            cross-entropy per token (a language model). A metric of its own would compute the
            softmax over the vocabulary a second time: a fifth of the training step on PTB.
        xla_evaluation: compile evaluation (`evaluate`, and validation in `fit`) with XLA,
            whatever `compile(jit_compile=...)` says for training. For batches of one fixed shape.
        evaluation_steps_per_execution: Keras's `steps_per_execution` for evaluation alone:
            batches per call of the compiled evaluation function. Training keeps
            `compile(steps_per_execution=...)`, so the NaN guard still sees every training step.
        carried: variables of `net` carried from a pretrained run (zoo.transfer): each step they
            move by the share `Carried.scale` of the optimizer's update (0 = frozen), set by a callback
            (zoo.diagnostics.PretrainedSchedule). Scaling the update, not the gradient, so it
            is a smaller learning rate for Adam too (Adam's step ignores a gradient's scale).
        sampled_softmax: for a network ending in a Dense layer named "head" over a vocabulary
            (a language model): train on the sampled softmax loss of the targets and this many
            sampled ids (tf.nn.sampled_softmax_loss) instead of the full softmax; 0 = full.
            The training loss is then the sampled one (no training perplexity is reported);
            evaluation is always the full softmax.
    """

    def __init__(self, net, perplexity=False, xla_evaluation=False, evaluation_steps_per_execution=1,
                 carried=(), sampled_softmax=0, **kwargs):
        super().__init__(**kwargs)
        self.net = net
        # a plain holder: a list of variables set on a Keras model would be tracked as its own
        self._carried = Carried(list(carried)) if carried else None
        self._sampled = Sampled(net, sampled_softmax) if sampled_softmax else None
        self.perplexity = perplexity
        self.xla_evaluation = xla_evaluation
        self.evaluation_steps_per_execution = evaluation_steps_per_execution
        self.clipped = keras.metrics.Mean(name="clipped_fraction")
        self.built = net.built  # its weights are the network's (BackupAndRestore needs a built model)

    def evaluate(self, *args, **kwargs):
        """Keras's evaluate (also fit's validation) with the evaluation settings: XLA if
        `xla_evaluation`, and `evaluation_steps_per_execution` batches per call. Keras reads both
        from the attributes that training uses, when it builds and traces the test function."""
        for_training = self.jit_compile, self.steps_per_execution
        if self.xla_evaluation:
            self.jit_compile = True
        self.steps_per_execution = self.evaluation_steps_per_execution
        # fit's cached validation iterator, made with training's value
        compat.set_validation_steps_per_execution(self, self.evaluation_steps_per_execution)
        try:
            return super().evaluate(*args, **kwargs)
        finally:
            self.jit_compile, self.steps_per_execution = for_training

    def with_perplexity(self, logs):
        if self.perplexity:
            logs["perplexity"] = tf.exp(logs["loss"])  # the loss is the running mean of the epoch
        return logs

    def test_step(self, data):
        return self.with_perplexity(super().test_step(data))

    def call(self, inputs, training=False):
        return self.net(inputs, training=training)

    def clipping_changes(self, gradients, global_norm):
        """1.0 where the optimizer's own clipping option (Keras's global_clipnorm, clipnorm or
        clipvalue: the one it was built with) changes these gradients, else 0.0."""
        optimizer = getattr(self.optimizer, "inner_optimizer", self.optimizer)  # inside a LossScaleOptimizer
        changed = tf.constant(False)
        if optimizer.global_clipnorm is not None:
            changed = global_norm > optimizer.global_clipnorm
        elif optimizer.clipnorm is not None:  # clipnorm clips each variable's gradient on its own
            changed = tf.reduce_any([tf.norm(tf.convert_to_tensor(g)) > optimizer.clipnorm for g in gradients])
        elif optimizer.clipvalue is not None:
            changed = tf.reduce_any([tf.reduce_max(tf.abs(tf.convert_to_tensor(g))) > optimizer.clipvalue
                                     for g in gradients])
        return tf.cast(changed, "float32")

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            if self._sampled is not None:
                y_pred = None
                loss = self._sampled.loss(x, y) + sum(self.losses)
                compiled = getattr(self, "_compile_metrics", None)
                if compiled is not None and not compiled.built:  # it has none to update (the task's: [])
                    compiled.build(y, tf.cast(y, "float32")[..., None])
            else:
                y_pred = self(x, training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
            scaled = self.optimizer.scale_loss(loss)  # mixed precision: times the loss scale, else the loss
        variables = self.trainable_variables
        gradients = tape.gradient(scaled, variables)
        scale = getattr(self.optimizer, "dynamic_scale", None)  # a LossScaleOptimizer's
        unscaled = gradients if scale is None else [_divided(g, scale) for g in gradients]
        grad_norm = tf.linalg.global_norm(unscaled)
        if scale is not None:  # a step whose scaled gradients overflow is skipped (and the scale halved): 0
            grad_norm = tf.where(tf.math.is_finite(grad_norm), grad_norm, 0.0)
        self.clipped.update_state(self.clipping_changes(unscaled, grad_norm))
        carried = self._carried
        before = None if carried is None else [tf.identity(tf.convert_to_tensor(v)) for v in carried.variables]
        self.optimizer.apply_gradients(zip(gradients, variables))
        if carried is not None:
            for variable, old in zip(carried.variables, before):
                variable.assign(old + carried.scale * (tf.convert_to_tensor(variable) - old))
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=tf.shape(tf.nest.flatten(x)[0])[0])
            elif metric is not self.clipped and y_pred is not None:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        if self._sampled is not None:  # the compiled metrics need full predictions: the loss and ours only
            return {"loss": self._loss_tracker.result(), "clipped_fraction": self.clipped.result(),
                    "grad_norm": grad_norm}
        return self.with_perplexity({**self.get_metrics_result(), "grad_norm": grad_norm})
