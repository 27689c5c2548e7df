"""What every task's data becomes: `Data` (tf.data pipelines and what a model needs to know),
and the small helpers that build it: slices, splits, fingerprints, pipelines from arrays."""

import collections
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from zoo import compat



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
    tokenizers: dict = field(default_factory=dict)  # "tokens" (and "tags"): zoo.text.Tokenizer, from train only
    report: dict = field(default_factory=dict)  # vocabulary report: params to log (zoo.datasets.vocabulary_report)
    counts: dict = field(default_factory=dict)  # {split: {"examples" | "characters": n}} of what was read
    digest: str = ""  # sentiment, tagging: examples_digest of what was read, labels and tags included

    @property
    def vocabularies(self):
        """{name: [token per id]} of the tokenizers, as the run saves them (vocabulary.json)."""
        return {name: list(tokenizer.vocabulary) for name, tokenizer in self.tokenizers.items()}


def prefetched(dataset):
    """`dataset` with two batches prefetched and tf.data's autotuning off: the end of every
    pipeline (zoo.compat.untuned_prefetch says why)."""
    return compat.untuned_prefetch(dataset)


KEPT = 2  # prepared data sets (and count baselines, apart) held per process (zoo.data.pipelines.prepared)
_PREPARED = collections.defaultdict(collections.OrderedDict)  # {kind: {key: what build() gave}}


def prepared(config, fingerprint, build, also=(), kind="data"):
    """build() (a task's data read and tokenized, before its tf.data pipelines), once per process
    for the configurations that differ only in fields of the network, its training or the batches
    (zoo.config.NOT_DATA): a local sweep's children and a Ray worker's trials tokenize once. The
    pipelines are built anew for each run (a tf.data shuffle reused by a second run would go on
    with its own order, not start the run's seed). fingerprint: of everything read (splits,
    examples and labels: examples_digest). also: fields of NOT_DATA that the result depends on
    after all. The last KEPT of each kind are held."""
    from zoo.config import NOT_DATA

    key = (fingerprint, json.dumps({name: value for name, value in dataclasses.asdict(config).items()
                                    if name not in NOT_DATA or name in also}, sort_keys=True, default=str))
    held = _PREPARED[kind]
    if key in held:
        held.move_to_end(key)
        return held[key]
    value = held[key] = build()
    while len(held) > KEPT:
        held.popitem(last=False)
    return value


def examples_digest(splits):
    """sha256 of {split: [examples]} as read (texts or words with their labels or tags, each split
    named): what a task's prepared data is keyed on."""
    digest = hashlib.sha256()
    for split, examples in splits.items():
        digest.update(f"\0split {split}\0".encode())
        for example in examples:
            digest.update(repr(example).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


BUCKETS = 10  # length buckets of a training set (config.bucketing): each a tenth of its examples


def bucket_boundaries(lengths, buckets=BUCKETS):
    """The lengths that cut the training examples' `lengths` into `buckets` groups of about equal size."""
    return np.unique(np.quantile(np.asarray(lengths), np.linspace(0, 1, buckets + 1)[1:-1]).astype("int64"))


def batches(examples, config, training=False):
    """A split's examples -> tf.data of (inputs, targets) batches of config.batch_size, each padded
    with 0 to its longest example. examples: (inputs, targets) tensors with the examples on the
    first axis, e.g. (ids [n, None] ragged int32, labels [n]) or ((ids, characters [n, None, None]),
    tags [n, None]); the first component is ragged, its row lengths the examples' lengths.
    training: reshuffled every epoch (config.seed), and with config.bucketing each batch drawn from
    one of BUCKETS buckets of similar lengths (tf.data's group_by_window), so that little of it is
    padding; the number of batches stays known (each bucket's last batch may be short).
    Evaluation: with config.bucketing ordered from the longest example to the shortest, so that few
    steps are padding and the first batch (the gradient flow's probe) has the longest; metrics over
    a whole split do not depend on the order. Without: the examples' order."""
    lengths = tf.nest.flatten(examples)[0].row_lengths().numpy()
    if config.bucketing and not training:
        order = np.argsort(-lengths, kind="stable")
        examples = tf.nest.map_structure(lambda part: tf.gather(part, order), examples)
    examples = tf.data.Dataset.from_tensor_slices(examples)
    batch_size, boundaries = config.batch_size, ()
    if training:
        examples = examples.shuffle(examples.cardinality(), seed=config.seed, reshuffle_each_iteration=True)
        boundaries = bucket_boundaries(lengths) if config.bucketing else ()
    if len(boundaries):
        edges = tf.constant(boundaries, tf.int64)

        def bucket(inputs, targets):
            length = tf.cast(tf.shape(tf.nest.flatten(inputs)[0])[0], tf.int64)
            return tf.reduce_sum(tf.cast(length >= edges, tf.int64))

        sizes = np.bincount(np.searchsorted(boundaries, lengths, side="right"), minlength=len(edges) + 1)
        examples = examples.group_by_window(bucket, lambda _, window: window.ragged_batch(batch_size),
                                            window_size=batch_size)
        examples = examples.apply(tf.data.experimental.assert_cardinality(int(np.ceil(sizes / batch_size).sum())))
    else:
        examples = examples.ragged_batch(batch_size)
    dense = lambda part: part.to_tensor() if isinstance(part, tf.RaggedTensor) else part  # noqa: E731
    return prefetched(examples.map(lambda x, y: (tf.nest.map_structure(dense, x), tf.nest.map_structure(dense, y))))


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


def split_at_random(items, shares, seed):
    """`items` cut into parts of these cumulative shares, in an order drawn with `seed`: shares
    (0.8, 0.9) gives the first 80% (train), the next 10% (validation) and the rest (test)."""
    order = np.random.default_rng(seed).permutation(len(items))
    cuts = [int(len(items) * share) for share in shares]
    return [[items[i] for i in part] for part in np.split(order, cuts)]


def split_80_10_10(items, seed):
    """{train, val, test}: 80% / 10% / 10% of `items`, drawn with `seed` (one file of examples)."""
    return dict(zip(("train", "val", "test"), split_at_random(items, (0.8, 0.9), seed)))


def hold_out(items, seed, parts=10):
    """(the rest, one `parts`-th of `items` drawn with `seed`): a validation set held out of train."""
    order = np.random.default_rng(seed).permutation(len(items))
    held = len(items) // parts
    return [items[i] for i in order[held:]], [items[i] for i in order[:held]]


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
