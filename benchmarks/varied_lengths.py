"""Training on batches of many lengths, as sentiment and tagging train (each batch padded to its
longest example, ten length buckets): seconds per epoch of a bidirectional VanillaRNN whose time
axis is padded to a multiple of zoo.layers.bptt.STEP_MULTIPLE (as the zoo runs it) against the
same layer compiling one XLA program per length (as before 2026-12-07), and SimpleRNN.

    python benchmarks/varied_lengths.py                    # IMDB-like lengths, 358 batches of 64
    python benchmarks/varied_lengths.py --batches 50 --epochs 2

The first epoch includes the compilations (one per padded length met); later epochs meet no new
length. Each contender runs in a process of its own, so that none finds another's programs.
"""

import argparse
import subprocess
import sys
import time

import pandas as pd

CONTENDERS = {
    "VanillaRNN, lengths padded to a multiple of 16": "padded",
    "VanillaRNN, a program per length": "per-length",
    "SimpleRNN": "simple",
}


def lengths_in_batches(batches, batch_size, seed=0, longest=400):
    """Example lengths like IMDB's reviews cut to 400 words (median about 230), grouped into ten
    buckets of similar length and batched within each, in random order: [batches][batch_size]."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lengths = np.sort(np.clip(rng.lognormal(np.log(230), 0.6, batches * batch_size), 10, longest).astype(int))
    groups = [batch for bucket in np.array_split(lengths, 10)
              for batch in np.array_split(rng.permutation(bucket), max(1, len(bucket) // batch_size))]
    return [groups[i] for i in rng.permutation(len(groups))]


def epochs_of(mode, batches, batch_size, epochs, units):
    """Seconds of each epoch of model.fit for one contender (run in its own process)."""
    import zoo.program  # noqa: F401  (this program's process settings, before TensorFlow loads)

    import keras
    import numpy as np
    import tensorflow as tf

    import zoo.layers.bptt as bptt
    from zoo.layers import VanillaRNN

    if mode == "per-length":
        bptt.padded_steps = lambda length, static_length: 0  # the recurrences see each length as it is
    rng = np.random.default_rng(1)
    data = []
    for group in lengths_in_batches(batches, batch_size):
        ids = rng.integers(1, 20000, size=(len(group), int(group.max())))
        ids[np.arange(ids.shape[1])[None, :] >= group[:, None]] = 0
        data.append((ids, rng.integers(0, 2, size=(len(group), 1))))
    dataset = tf.data.Dataset.from_generator(lambda: iter(data), output_signature=(
        tf.TensorSpec([None, None], tf.int64), tf.TensorSpec([None, 1], tf.int64))).cache()
    layer = keras.layers.SimpleRNN(units) if mode == "simple" else VanillaRNN(units)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None,), dtype="int64")
    hidden = keras.layers.Bidirectional(layer)(keras.layers.Embedding(20000, 128, mask_zero=True)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    list(dataset)  # fill the cache before timing
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(dataset, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - start)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=358, help="batches an epoch (IMDB's study: 358)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--contender", choices=list(CONTENDERS.values()), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.contender:  # a child: one contender, its epochs' seconds on stdout
        print(" ".join(f"{s:.2f}" for s in epochs_of(args.contender, args.batches, args.batch_size, args.epochs,
                                                      args.units)))
        return 0
    from tqdm import tqdm

    rows = []
    for name, mode in tqdm(CONTENDERS.items(), desc="contenders", unit="process"):
        done = subprocess.run([sys.executable, __file__, "--contender", mode, "--batches", str(args.batches),
                               "--batch-size", str(args.batch_size), "--units", str(args.units),
                               "--epochs", str(args.epochs)], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"error: {name} failed: {done.stderr.strip()[-500:]}")
        seconds = [float(s) for s in done.stdout.split()[-args.epochs:]]
        rows.append({"contender": name, **{f"epoch {i + 1} s": round(s, 1) for i, s in enumerate(seconds)}})
    groups = lengths_in_batches(args.batches, args.batch_size)
    steps = sum(len(group) * int(group.max()) for group in groups)
    distinct = {int(group.max()) for group in groups}
    print(f"\n{len(groups)} batches of about {args.batch_size} (bidirectional, {args.units} units, embedding 128), "
          f"{steps:,} padded steps an epoch, {len(distinct)} distinct lengths, "
          f"{len({-(-n // 16) for n in distinct})} multiples of 16\n")
    print(pd.DataFrame(rows).to_markdown(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
