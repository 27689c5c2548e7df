"""The network of a run, built from its Config, its task's spec and its cell's entry.

    inputs (float [batch, time, features], or token ids [batch, time] through an embedding)
      -> config.layers sequence layers of config.cell (zoo.cells)
      -> many-to-one: the last state, or the mean of the states (config.pooling)
      -> a Dense head: [batch, outputs] or [batch, time, outputs]

The task (zoo.tasks) says which inputs, whether id 0 pads (masked in the embedding, skipped by
the recurrent layers, left out of the loss and metrics), many-to-one or many-to-many, and whether
it trains stateful over contiguous windows (the language model).
"""

import keras

from zoo import cells, tasks
from zoo.config import CLIPPING, OPTIMIZERS
from zoo.layers.features import CharacterFeatures, MaskedMean  # noqa: F401  (re-exported)
from zoo.losses import PositiveClassAUC, SparseCrossEntropy, sparse_cross_entropy  # noqa: F401  (re-exported)


def build(config, data, stateful=None):
    """The keras.Model of `config` for `data` (a zoo.data.Data).

    A task that trains stateful (the language model, Zaremba et al.) has the fixed input shape
    [batch_size, sequence_length], and each recurrent layer carries its state from batch to batch
    (and unrolls its steps if config.unroll). With stateful=False it is the same network, with the
    same weights, for any batch and length, for generation and export.
    """
    task, cell = tasks.get(config.task), cells.CELLS[config.cell]
    if stateful is None:
        stateful = task.stateful and cell.recurrent
    if task.inputs == "features":
        inputs = keras.Input(data.input_shape, name="sequence")
    elif stateful:
        inputs = keras.Input(batch_shape=(config.batch_size, *data.input_shape), dtype="int32", name="tokens")
    else:
        shape = (None,) if task.stateful else data.input_shape  # a language model reads prompts of any length
        inputs = keras.Input(shape, dtype="int32", name="tokens")
    x, fixed_length = inputs, inputs.shape[1] is not None
    # mixed precision: float16 compute, float32 weights, float32 logits (the head)
    dtype = "mixed_float16" if config.mixed_precision else None
    policy = {} if dtype is None else {"dtype": dtype}
    if task.inputs == "tokens":
        x = keras.layers.Embedding(data.vocab_size, config.embedding_size, mask_zero=task.padding,
                                   name="embedding", **policy)(inputs)
        if config.word_dropout:  # whole word vectors: one mask value per [batch, time]
            x = keras.layers.Dropout(config.word_dropout, noise_shape=(None, None, 1), name="word_dropout",
                                     **policy)(x)
    if task.characters and config.char_features:  # a second input: each word's characters
        characters = keras.Input((None, None), dtype="int32", name="characters")
        x = CharacterFeatures(len(data.tokenizers["characters"].vocabulary), config.char_features,
                              encoder=config.char_encoder, name="character_features")([x, characters])  # keeps the words' mask
        inputs = [inputs, characters]
    for i in range(config.layers):
        last = i == config.layers - 1
        keep_sequence = not (last and task.many_to_one and config.pooling == "last")
        x = cell.build(config, keep_sequence, f"{config.cell}_{i}", data.input_shape[0], stateful,
                       unroll=config.unroll and fixed_length, dtype=dtype)(x)
    if task.many_to_one and config.pooling == "mean":
        x = MaskedMean(name="mean_over_time")(x)  # skips masked steps
    outputs = keras.layers.Dense(data.num_outputs, name="head", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"{config.task}_{config.cell}")


def loss_and_metrics(config, outputs=None):
    """The task's loss and metrics (zoo.tasks); outputs: the network's (classes, tags, vocabulary)."""
    return tasks.get(config.task).loss_and_metrics(config, outputs)


def optimizer(config):
    """The configured optimizer with Keras's own clipping option for config.clipping (zoo.config.CLIPPING),
    inside a LossScaleOptimizer with config.mixed_precision."""
    kind = getattr(keras.optimizers, OPTIMIZERS[config.optimizer])
    option = CLIPPING[config.clipping].option
    built = kind(learning_rate=config.learning_rate, **({option: config.clip_threshold} if option else {}))
    # mixed precision: the loss scaled, the gradients unscaled, overflowing steps skipped
    return keras.optimizers.LossScaleOptimizer(built) if config.mixed_precision else built
