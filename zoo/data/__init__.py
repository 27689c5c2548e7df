"""Datasets: one module per source, each giving a `Data` with one schema per task."""

import hashlib
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from zoo.errors import UserError


@dataclass
class Data:
    """What a run trains and evaluates on.

    train, val, test: tf.data pipelines of (inputs, targets) batches. Adding: inputs
        [batch, time, 2] float32, targets [batch, 1]. Token tasks: inputs [batch, time] int32 ids
        (0 = padding), targets [batch] class ids (many-to-one) or [batch, time] ids (many-to-many).
    input_shape: shape of one example's inputs, e.g. (50, 2) or (None,).
    vocab_size: number of token ids including padding (token tasks), else None.
    num_outputs: 1 (regression), number of classes or tags, or the vocabulary size (LM).
    train_tokens: tokens (steps) in one pass over the training set, for tokens_per_sec.
    fingerprint: sha256 of the data used (the files, or the generated arrays).
    """

    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset
    input_shape: tuple
    vocab_size: int | None
    num_outputs: int
    train_tokens: int
    fingerprint: str


def fingerprint(*arrays):
    """sha256 over the bytes of numpy arrays."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def from_arrays(train, val, test, batch_size, seed, input_shape=None, vocab_size=None, num_outputs=1):
    """Data from ((x, y), (x, y), (x, y)) numpy arrays; the training set is shuffled each epoch."""
    (x_train, y_train) = train

    def pipeline(x, y, shuffle):
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    steps = x_train.shape[1] if x_train.ndim > 1 else 1
    return Data(
        train=pipeline(x_train, y_train, True),
        val=pipeline(*val, False),
        test=pipeline(*test, False),
        input_shape=tuple(input_shape or x_train.shape[1:]),
        vocab_size=vocab_size,
        num_outputs=num_outputs,
        train_tokens=len(x_train) * steps,
        fingerprint=fingerprint(*train, *val, *test),
    )


def load(config):
    """The Data of `config.dataset` for `config.task`."""
    from zoo.data import synthetic

    loaders = {("adding", "adding"): synthetic.synthetic_data, ("copy", "copy"): synthetic.synthetic_data}
    loader = loaders.get((config.task, config.dataset))
    if loader is None:
        valid = [name for task, name in loaders if task == config.task]
        raise UserError(f"Invalid dataset {config.dataset!r} for task {config.task!r}; valid choices: "
                        f"{', '.join(valid) or 'none yet (pass data from Python: zoo.train.run(config, data))'}.")
    return loader(config)
