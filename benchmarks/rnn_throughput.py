"""Training throughput of the recurrent layers: tokens per second through forward, backward
and an optimizer step.

Contenders: zoo.layers.VanillaRNN (hand-written BPTT), keras.layers.SimpleRNN,
keras.layers.RNN(VanillaRNNCell) (autodiff through Keras's loop), GRU and LSTM; each in a
many-to-many model (recurrent layer -> Dense(1), MSE on every step) compiled with and without
XLA. Rounds interleave the contenders so that drift of the machine hits all of them alike; the
table shows medians over rounds and the ratio of medians against SimpleRNN in the same setting.

    python benchmarks/rnn_throughput.py                   # batch 64, D 64, H 128, T 50 and 200
    python benchmarks/rnn_throughput.py --lengths 200 --rounds 3 --steps 5
    python benchmarks/rnn_throughput.py --lengths 200 --fit   # steps through model.fit on a cached tf.data
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402
from tqdm import tqdm  # noqa: E402

from zoo import tracking  # noqa: E402
from zoo.data.pipelines import prefetched  # noqa: E402
from zoo.layers import VanillaRNN, VanillaRNNCell  # noqa: E402

CONTENDERS = {
    "VanillaRNN": lambda units: VanillaRNN(units, return_sequences=True),
    "SimpleRNN": lambda units: keras.layers.SimpleRNN(units, return_sequences=True),
    "RNN(VanillaRNNCell)": lambda units: keras.layers.RNN(VanillaRNNCell(units), return_sequences=True),
    "GRU": lambda units: keras.layers.GRU(units, return_sequences=True),
    "LSTM": lambda units: keras.layers.LSTM(units, return_sequences=True),
}


def build(name, length, features, units, jit_compile):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((length, features)),
        CONTENDERS[name](units),
        keras.layers.Dense(1),
    ])
    model.compile(keras.optimizers.SGD(0.01), "mse", jit_compile=jit_compile)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--lengths", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--xla", choices=["both", "on", "off"], default="both")
    parser.add_argument("--contenders", nargs="+", choices=list(CONTENDERS), default=list(CONTENDERS))
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are over these")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per round")
    parser.add_argument("--fit", action="store_true",
                        help="time each round's steps as one model.fit epoch over a cached tf.data of that many "
                             "batches (as a run trains) instead of train_on_batch calls")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/rnn_throughput.json"))
    args = parser.parse_args()
    if "SimpleRNN" not in args.contenders:
        parser.error("--contenders must include SimpleRNN, the baseline of the ratio column")

    xla_modes = {"both": [False, True], "on": [True], "off": [False]}[args.xla]
    settings = [(length, xla) for length in args.lengths for xla in xla_modes]
    rng = np.random.default_rng(0)
    models, batches = {}, {}
    for length, xla in tqdm(settings, desc="compile"):
        x = rng.normal(size=(args.batch, length, args.features)).astype("float32")
        y = rng.normal(size=(args.batch, length, 1)).astype("float32")
        batches[length] = (x, y)
        if args.fit:
            batches[length] = prefetched(tf.data.Dataset.from_tensors((x, y)).repeat(args.steps).cache())
        for name in args.contenders:
            model = build(name, length, args.features, args.units, xla)
            for _ in range(2):  # warm-up: tracing and compilation
                if args.fit:
                    model.fit(batches[length], epochs=1, verbose=0, shuffle=False)
                else:
                    model.train_on_batch(x, y)
            models[(length, xla, name)] = model

    seconds = {key: [] for key in models}
    for _ in tqdm(range(args.rounds), desc="rounds"):
        for (length, xla, name), model in models.items():
            start = time.perf_counter()
            if args.fit:
                model.fit(batches[length], epochs=1, verbose=0, shuffle=False)
            else:
                for _ in range(args.steps):
                    model.train_on_batch(*batches[length])
            seconds[(length, xla, name)].append((time.perf_counter() - start) / args.steps)

    rows = []
    for (length, xla, name), times in seconds.items():
        step = statistics.median(times)
        baseline = statistics.median(seconds[(length, xla, "SimpleRNN")])
        rows.append({
            "T": length,
            "xla": xla,
            "layer": name,
            "ms_per_step": round(step * 1e3, 2),
            "tokens_per_sec": round(args.batch * length / step),
            "vs_SimpleRNN": round(baseline / step, 2),
        })
    table = pd.DataFrame(rows)
    print(f"\nbatch {args.batch}, D {args.features}, H {args.units}; "
          f"medians of {args.rounds} rounds x {args.steps} steps{' in model.fit' if args.fit else ''}")
    print(table.to_markdown(index=False))
    settings = vars(args) | {"out": str(args.out)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"settings": settings, "rows": rows}, indent=2))
    print(f"\nwrote {args.out}")
    with tracking.start_run("benchmarks", "rnn_throughput", params=settings) as recorder:
        name = lambda row: row["layer"].replace("(", "_").replace(")", "")  # noqa: E731  (MLflow's charset)
        recorder.log_metrics({f"tokens_per_sec/{name(row)}/T{row['T']}/{'xla' if row['xla'] else 'no_xla'}":
                              row["tokens_per_sec"] for row in rows})
        recorder.log_text(table.to_markdown(index=False), "rnn_throughput.md")
    print(f"logged to MLflow experiment 'benchmarks' ({tracking.tracking_uri()})")


if __name__ == "__main__":
    main()
