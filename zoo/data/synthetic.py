"""Synthetic long-range tasks, generated on the fly with tf.data (no data files).

Example i of a split is drawn from a stateless seed made of (seed, split, i), so a dataset is
the same whatever the batch size, and streams: nothing is held in memory.

- Adding problem (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015): T (value, marker)
  pairs, values uniform in [0, 1], exactly two markers (one in each half); the target is the sum
  of the two marked values. Predicting the constant 1 scores MSE 1/6 = 0.167.
- Copy memory (Arjovsky, Shah & Bengio 2016): 10 symbols from {1..8}, T - 1 blanks (0), the
  delimiter 9, 10 blanks; the target is blanks for T + 10 steps, then the 10 symbols. Predicting
  blanks and then uniform symbols scores cross-entropy 10 log 8 / (T + 20) per step.
"""

import hashlib
import json
import math

import tensorflow as tf

ADDING_BASELINE_MSE = 1.0 / 6.0
COPY_SYMBOLS, COPY_ALPHABET, COPY_BLANK, COPY_DELIMITER = 10, 8, 0, 9
SPLITS = {"train": 0, "val": 1, "test": 2}


def copy_baseline_cross_entropy(length):
    """The memoryless baseline of the copy task: 10 log 8 / (T + 20) nats per step."""
    return COPY_SYMBOLS * math.log(COPY_ALPHABET) / (length + 20)


def _seeds(seed, split, index, count):
    """`count` independent stateless seeds for example `index` of `split`."""
    base = tf.stack([tf.constant(seed * len(SPLITS) + SPLITS[split], tf.int64), index])
    return tf.random.experimental.stateless_split(base, num=count)


def _check_length(length, minimum):
    if length < minimum:
        raise ValueError(f"Received an invalid value for argument `length`, expected >= {minimum}, "
                         f"got {length}.")


def adding_problem(num_examples, length, seed=0, split="train"):
    """tf.data of (x [length, 2] float32: value, marker; y [1]: sum of the two marked values)."""
    _check_length(length, 2)

    def example(index):
        values_seed, first_seed, second_seed = tf.unstack(_seeds(seed, split, index, 3))
        values = tf.random.stateless_uniform([length], values_seed)
        half = length // 2
        first = tf.random.stateless_uniform([], first_seed, 0, half, dtype=tf.int32)
        second = tf.random.stateless_uniform([], second_seed, half, length, dtype=tf.int32)
        markers = tf.one_hot(first, length) + tf.one_hot(second, length)
        return tf.stack([values, markers], axis=-1), tf.reduce_sum(values * markers, keepdims=True)

    return tf.data.Dataset.range(num_examples).map(example, num_parallel_calls=tf.data.AUTOTUNE,
                                                   deterministic=True)


def copy_memory(num_examples, length, seed=0, split="train"):
    """tf.data of (x [length + 20] int32 symbols, y [length + 20] int32 targets)."""
    _check_length(length, 1)

    def example(index):
        symbols = tf.random.stateless_uniform([COPY_SYMBOLS], _seeds(seed, split, index, 1)[0],
                                              1, COPY_ALPHABET + 1, dtype=tf.int32)
        blanks = lambda n: tf.fill([n], COPY_BLANK)  # noqa: E731
        x = tf.concat([symbols, blanks(length - 1), [COPY_DELIMITER], blanks(COPY_SYMBOLS)], 0)
        y = tf.concat([blanks(length + COPY_SYMBOLS), symbols], 0)
        return x, y

    return tf.data.Dataset.range(num_examples).map(example, num_parallel_calls=tf.data.AUTOTUNE,
                                                   deterministic=True)


def synthetic_data(config, generate, steps, classes=None):
    """A generated task at T = config.sequence_length as a zoo.data.Data: config.examples training
    sequences, a tenth as many (at least 256) for validation and test.

    generate: adding_problem or copy_memory; steps: time steps of one example; classes: number of
    symbols of a token task (its vocabulary and outputs), None for a regression on features.
    """
    from zoo.data.pipelines import Data, prefetched

    length, n = config.sequence_length, config.examples
    sizes = {"train": n, "val": max(256, n // 10), "test": max(256, n // 10)}
    splits = {split: prefetched(generate(size, length, config.seed, split).batch(config.batch_size))
              for split, size in sizes.items()}
    first_x, first_y = next(iter(splits["train"]))
    digest = hashlib.sha256(json.dumps({"task": config.task, "length": length, "sizes": sizes,
                                        "seed": config.seed}, sort_keys=True).encode())
    digest.update(first_x.numpy().tobytes() + first_y.numpy().tobytes())
    return Data(
        train=splits["train"],
        val=splits["val"],
        test=splits["test"],
        input_shape=tuple(first_x.shape[1:]),
        vocab_size=classes,
        num_outputs=classes or 1,
        train_tokens=n * steps,
        fingerprint=digest.hexdigest(),
    )
