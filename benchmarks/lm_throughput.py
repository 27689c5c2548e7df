"""Language-model throughput on PTB in the "small" configuration: the zoo's training step (and
evaluation) against PyTorch's word-language-model reference on the same machine.

The zoo side is exactly what `experiments/language_model.py --preset full` trains (that preset's
Config, zoo.presets.LANGUAGE_MODEL["full"], with clipping on): zoo.models.build (stateful,
embedding 200, 2 x 200 units unrolled over the window, softmax over the 10,001 ids),
zoo.train.compiled_monitor (the GradientMonitor train step, SGD at 20 with global-norm clipping
at 0.25, evaluation with XLA), batch 20, windows of 35, through model.fit on the tf.data pipeline
of zoo.datasets.load. The PyTorch side
(benchmarks/peers/torch_lm.py) runs when torch is importable by --torch-python (default: this
Python), in its own process, on the same windows.
Rounds interleave zoo and torch, so drift of the machine hits both; the table shows medians.

    python benchmarks/lm_throughput.py                          # lstm, gru, vanilla; 3 rounds of 50 batches
    python benchmarks/lm_throughput.py --cells lstm --torch-python /path/to/python-with-torch
"""

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tqdm import tqdm  # noqa: E402

from zoo import models, train  # noqa: E402
from zoo.datasets import load  # noqa: E402
from zoo.presets import LANGUAGE_MODEL  # noqa: E402


def full_preset():
    """The language model's full preset (what `make lm` trains): the "small" configuration."""
    return LANGUAGE_MODEL["full"]


PEER = Path(__file__).resolve().parent / "peers" / "torch_lm.py"


def zoo_model(config, data, jit_compile):
    keras.utils.set_random_seed(0)
    return train.compiled_monitor(config, models.build(config, data), jit_compile=jit_compile)


def zoo_round(monitor, train_set, test_set):
    """(ms per training batch, ms per evaluation batch) over the windows of the two sets."""
    batches = int(train_set.cardinality())
    start = time.perf_counter()
    monitor.fit(train_set, epochs=1, verbose=0, shuffle=False)
    train_ms = (time.perf_counter() - start) * 1000 / batches
    start = time.perf_counter()
    monitor.evaluate(test_set, verbose=0)
    return train_ms, (time.perf_counter() - start) * 1000 / batches


def saved_windows(windows, vocab_size):
    """The path of a new .npz of a tf.data of (inputs, targets) windows, as the torch peer reads
    them: x, y [windows, batch, steps] and vocab."""
    x, y = zip(*windows.as_numpy_iterator())
    path = Path(tempfile.mkdtemp()) / "windows.npz"
    np.savez(path, x=np.stack(x), y=np.stack(y), vocab=vocab_size)
    return path


def torch_available(python):
    try:
        done = subprocess.run([python, "-c", "import torch"], capture_output=True)
    except OSError:  # no such interpreter
        return False
    return done.returncode == 0


def torch_round(python, windows_file, cell, batches, threads):
    done = subprocess.run([python, str(PEER), "--data", windows_file, "--cell", cell, "--rounds", "1",
                           "--batches", str(batches), "--threads", str(threads)],
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["train_ms"], result["eval_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", choices=["lstm", "gru", "vanilla"], default=["lstm", "gru", "vanilla"])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are over these")
    parser.add_argument("--batches", type=int, default=50, help="timed batches per round (after one warm-up pass)")
    parser.add_argument("--xla", action="store_true", help="also compile the zoo's training step with XLA")
    parser.add_argument("--torch-python", default=sys.executable,
                        help="a Python that can import torch (default: this one)")
    parser.add_argument("--torch-threads", type=int, default=0, help="torch threads (0: its default)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/lm_throughput.json"))
    args = parser.parse_args()

    config = dataclasses.replace(full_preset(), clipping="global_norm", limit=args.batches)
    data = load(config)
    with_torch = torch_available(args.torch_python)
    if not with_torch:
        print(f"torch is not importable by {args.torch_python}: timing the zoo only "
              "(pip install torch, or --torch-python PATH)")
    windows_file = saved_windows(data.train, data.vocab_size)

    times = {}
    for cell in args.cells:
        monitor = zoo_model(dataclasses.replace(config, cell=cell), data, args.xla or "auto")
        zoo_round(monitor, data.train, data.test)  # warm-up: tracing, compilation
        for _ in tqdm(range(args.rounds), desc=cell):
            times.setdefault((cell, "zoo"), []).append(zoo_round(monitor, data.train, data.test))
            if with_torch:
                times.setdefault((cell, "torch"), []).append(
                    torch_round(args.torch_python, str(windows_file), cell, args.batches, args.torch_threads))

    tokens = config.batch_size * config.sequence_length
    rows = []
    for (cell, side), measured in times.items():
        train_ms = statistics.median(t for t, _ in measured)
        eval_ms = statistics.median(e for _, e in measured)
        rows.append({"cell": cell, "side": side, "train_ms_per_batch": round(train_ms, 1),
                     "train_tokens_per_sec": round(tokens / train_ms * 1000),
                     "eval_ms_per_batch": round(eval_ms, 1)})
    table = pd.DataFrame(rows)
    if with_torch:
        zoo = table[table.side == "zoo"].set_index("cell")
        peer = table[table.side == "torch"].set_index("cell")
        table["torch_over_zoo_train"] = table.cell.map(peer.train_ms_per_batch / zoo.train_ms_per_batch).round(2)
        table["torch_over_zoo_eval"] = table.cell.map(peer.eval_ms_per_batch / zoo.eval_ms_per_batch).round(2)
    published(table, f"PTB small: batch {config.batch_size}, window {config.sequence_length}, "
                     f"{data.vocab_size:,} ids; XLA for {'training and ' if args.xla else ''}evaluation; "
                     f"medians of {args.rounds} rounds x {args.batches} batches (ratio > 1: the zoo is faster)",
              args.out)


def published(table, title, out):
    """Prints `title` and `table` (Markdown) and writes the table to `out` (JSON records)."""
    print(f"\n{title}")
    print(table.to_markdown(index=False))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table.to_json(orient="records", indent=1))


if __name__ == "__main__":
    main()
