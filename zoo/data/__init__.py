"""Datasets: one module per source, each giving a `Data` with one schema per task."""

import hashlib
from dataclasses import dataclass, field

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
    vocabularies: dict = field(default_factory=dict)  # name -> [token per id], from train only


def prefetched(dataset):
    """`dataset` with two batches prefetched and tf.data's autotuning off: the end of every pipeline.

    With autotuning on, deleting an iterator that a tf.function read to its end (Keras does so
    after every epoch and every evaluation) can wait for the autotuner thread's current sleep,
    whose period doubles up to a minute: measured here (TF 2.21) 2.5 s after a 2.6-s epoch and
    15.6 s after a 25-s one. The zoo's pipelines read arrays in memory; there is nothing to tune.
    A parallel map's AUTOTUNE then means one call per core.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(2).with_options(options)


def fingerprint(*arrays):
    """sha256 over the bytes of numpy arrays."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def sha256_files(paths):
    """sha256 over the bytes of the files, in order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def sha256_texts(texts):
    """sha256 over UTF-8 strings, each followed by a newline (data that came without files)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\n")
    return digest.hexdigest()


def sample(items, limit, seed):
    """At most `limit` of `items` (0 = all), drawn at random with `seed`, in their original order."""
    if not limit or len(items) <= limit:
        return items
    keep = np.sort(np.random.default_rng(seed).choice(len(items), limit, replace=False))
    return [items[i] for i in keep]


def split_user_data(items, seed):
    """A user's single file of examples -> 80% train, 10% val, 10% test, drawn with `seed`."""
    if len(items) < 10:
        raise UserError(f"Too few examples in the data file ({len(items)}); give at least 10.")
    order = np.random.default_rng(seed).permutation(len(items))
    cut_val, cut_test = int(len(items) * 0.8), int(len(items) * 0.9)
    pick = lambda indices: [items[i] for i in indices]  # noqa: E731
    return {"train": pick(order[:cut_val]), "val": pick(order[cut_val:cut_test]), "test": pick(order[cut_test:])}


def from_arrays(train, val, test, batch_size, seed, input_shape=None, vocab_size=None, num_outputs=1):
    """Data from ((x, y), (x, y), (x, y)) numpy arrays; the training set is shuffled each epoch."""
    (x_train, y_train) = train

    def pipeline(x, y, shuffle):
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        return prefetched(ds.batch(batch_size))

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
    from zoo.data import language, sentiment, synthetic, tagging

    loaders = {("adding", "adding"): synthetic.synthetic_data, ("copy", "copy"): synthetic.synthetic_data,
               ("sentiment", "imdb"): sentiment.sentiment_data, ("sentiment", "sst2"): sentiment.sentiment_data,
               ("sentiment", "user"): sentiment.sentiment_data,
               ("pos", "ud_english_ewt"): tagging.tagging_data, ("pos", "user"): tagging.tagging_data,
               ("lm", "ptb"): language.lm_data, ("lm", "tinyshakespeare"): language.lm_data,
               ("lm", "user"): language.lm_data}
    if config.dataset == "user" and not config.data_path:
        raise UserError("dataset=user needs --set data_path=FILE (CSV/TSV with text and label columns, "
                        "a CoNLL-U file, or a plain text file).")
    loader = loaders.get((config.task, config.dataset))
    if loader is None:
        valid = [name for task, name in loaders if task == config.task]
        raise UserError(f"Invalid dataset {config.dataset!r} for task {config.task!r}; valid choices: "
                        f"{', '.join(valid) or 'none yet (pass data from Python: zoo.train.run(config, data))'}.")
    return loader(config)
