"""Where a language model's evaluation spends its time: the PTB "small" network of
benchmarks/lm_throughput.py, evaluated a window at a time, split into its parts, for the zoo and
for PyTorch (benchmarks/peers/torch_lm.py --parts), beside the machine's matrix-multiply peak.

Parts, in ms per window (batch 20 x 35 steps), medians of --rounds rounds over --batches windows:
- evaluate: Keras's `evaluate`, as a run calls it (XLA, 10 windows per call);
- body: the embedding and the recurrent layers, state carried (XLA);
- head + loss: the output layer (200 -> 10,001) and the cross-entropy on states of the body's output
  shape (random normal for the zoo; the body's own outputs for torch), with XLA and without
  (TensorFlow's graph), and the output layer's matrix product alone (XLA).
GFLOP per window counts multiply-adds twice: the output layer 2 * 700 * 200 * 10,001; each recurrent
layer 2 * 700 * (200 + 200) * gates * 200. The peak is numpy's float32 product of two 2048 x 2048
matrices on this machine (the BLAS numpy ships), the best a dense product reaches here.

    python benchmarks/lm_eval_parts.py --torch-python /path/to/python-with-torch
"""

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from lm_throughput import PEER, full_preset, published, saved_windows, torch_available, zoo_model  # noqa: E402
from zoo.datasets import load  # noqa: E402
from zoo.losses import sparse_cross_entropy  # noqa: E402

GATES = {"lstm": 4, "gru": 3, "vanilla": 1}


def median_ms(function, windows, rounds):
    """Median over `rounds` (after one warm-up call) of ms per window of function()."""
    function()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000 / windows)
    return statistics.median(times)


def peak_gflops():
    a = np.random.default_rng(0).random((2048, 2048), dtype="float32")
    ms = median_ms(lambda: a @ a, 1, 5)
    return 2 * 2048 ** 3 / ms / 1e6


def zoo_parts(config, data, rounds):
    keras.utils.set_random_seed(0)
    monitor = zoo_model(config, data, "auto")
    net = monitor.net
    head = net.get_layer("head")
    body = keras.Model(net.inputs, head.input)
    inputs, targets = zip(*data.test.as_numpy_iterator())
    x, y = tf.constant(np.stack(inputs)), tf.constant(np.stack(targets))
    windows = len(x)
    hidden = tf.random.normal([windows, *body.output_shape])

    def head_loss(h, targets):
        return tf.reduce_mean(sparse_cross_entropy(targets, head(h)))

    body_step = tf.function(lambda w: body(w, training=False), jit_compile=True)
    head_xla = tf.function(head_loss, jit_compile=True)
    head_graph = tf.function(head_loss)
    product = tf.function(lambda h: tf.reduce_sum(h @ head.kernel), jit_compile=True)
    return {
        "evaluate": median_ms(lambda: monitor.evaluate(data.test, verbose=0), windows, rounds),
        "body": median_ms(lambda: [body_step(x[k]) for k in range(windows)], windows, rounds),
        "head + loss (XLA)": median_ms(lambda: [head_xla(hidden[k], y[k]) for k in range(windows)], windows, rounds),
        "head + loss (graph)": median_ms(lambda: [head_graph(hidden[k], y[k]) for k in range(windows)],
                                         windows, rounds),
        "head product alone": median_ms(lambda: [product(tf.reshape(hidden[k], [-1, hidden.shape[-1]]))
                                                 for k in range(windows)], windows, rounds),
    }


def torch_parts(python, windows_file, cell, batches, rounds):
    common = [python, str(PEER), "--data", str(windows_file), "--cell", cell, "--batches", str(batches)]
    whole = subprocess.run(common + ["--rounds", str(rounds)], capture_output=True, text=True, check=True)
    parts = subprocess.run(common + ["--rounds", str(rounds), "--parts"], capture_output=True, text=True, check=True)
    evaluations = [json.loads(line)["eval_ms"] for line in whole.stdout.strip().splitlines()]
    split = json.loads(parts.stdout.strip().splitlines()[-1])
    return {"evaluate": statistics.median(evaluations), "body": split["body_ms"],
            "head + loss (graph)": split["head_ms"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", choices=list(GATES), default=["lstm", "gru", "vanilla"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=50, help="evaluation windows per round")
    parser.add_argument("--torch-python", default=sys.executable,
                        help="a Python that can import torch (default: this one)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/lm_eval_parts.json"))
    args = parser.parse_args()

    config = dataclasses.replace(full_preset(), clipping="global_norm", limit=args.batches)
    data = load(config)
    with_torch = torch_available(args.torch_python)
    peak = peak_gflops()
    windows_file = saved_windows(data.test, data.vocab_size) if with_torch else None
    tokens, units = config.batch_size * config.sequence_length, config.units
    head_gflop = 2 * tokens * units * data.vocab_size / 1e9
    rows = []
    for cell in args.cells:
        body_gflop = config.layers * 2 * tokens * (config.embedding_size + units) * GATES[cell] * units / 1e9
        gflop = {"head": head_gflop, "body": body_gflop, "evaluate": head_gflop + body_gflop}
        zoo = zoo_parts(dataclasses.replace(config, cell=cell), data, args.rounds)
        peer = torch_parts(args.torch_python, windows_file, cell, args.batches, args.rounds) if with_torch else {}
        for part, ms in zoo.items():
            work = gflop.get(part, gflop["head"])
            rows.append({"cell": cell, "part": part, "zoo ms": round(ms, 1),
                         "torch ms": round(peer[part], 1) if part in peer else None,
                         "GFLOP": round(work, 2),
                         "zoo GFLOP/s": round(work / ms * 1000, 1),
                         "zoo share of peak": f"{work / ms * 1000 / peak:.0%}"})
    published(pd.DataFrame(rows), f"PTB small evaluation, parts per window (batch {config.batch_size} x "
                                  f"{config.sequence_length}); peak: numpy 2048^3 float32 product, {peak:.0f} GFLOP/s"
                                  + ("" if with_torch else "; torch not importable: zoo only"), args.out)


if __name__ == "__main__":
    main()
