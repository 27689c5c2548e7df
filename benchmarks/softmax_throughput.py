"""Pretraining speed: the transfer studies' language model (zoo.presets.PRETRAIN: an LSTM of 128
over 20,000 words, batch 64 x 50 steps, on the IMDB + SST-2 training text) trained with the full
softmax against a sampled softmax (tf.nn.sampled_softmax_loss, config.sampled_softmax) of a few
sizes. Each variant: one warm-up pass (tracing), then rounds of --batches training batches through
the zoo's own training step (zoo.train.compiled_monitor); the table shows median tokens per second
and what one pass over the ~5.9M training tokens would take.

    python benchmarks/softmax_throughput.py                      # full, 256, 1024, 4096; 3 rounds of 30 batches
    python benchmarks/softmax_throughput.py --sizes 0 1024 --rounds 1
"""

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402
from tqdm import tqdm  # noqa: E402

from lm_throughput import published, zoo_model  # noqa: E402
from zoo.datasets import load  # noqa: E402
from zoo.presets import PRETRAIN  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[0, 256, 1024, 4096],
                        help="sampled ids per step (0: the full softmax)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=30, help="timed training batches per round")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/softmax_throughput.json"))
    args = parser.parse_args()

    config = dataclasses.replace(PRETRAIN, limit=args.batches)
    data = load(config)
    full_tokens = 5_912_307  # imdb_sst2_text's training tokens (its load prints them)
    tokens = config.batch_size * config.sequence_length
    rows = []
    for size in args.sizes:
        monitor = zoo_model(dataclasses.replace(config, sampled_softmax=size), data, "auto")
        monitor.fit(data.train, epochs=1, verbose=0, shuffle=False)  # warm-up: tracing
        times = []
        for _ in tqdm(range(args.rounds), desc=f"sampled_softmax={size}"):
            start = time.perf_counter()
            monitor.fit(data.train, epochs=1, verbose=0, shuffle=False)
            times.append((time.perf_counter() - start) / args.batches)
        seconds = statistics.median(times)
        rows.append({"softmax": "full" if size == 0 else f"sampled, {size:,} ids",
                     "train ms per batch": round(seconds * 1000, 1),
                     "tokens/s": round(tokens / seconds),
                     "minutes per pass over the text": round(full_tokens / (tokens / seconds) / 60, 1)})
    published(pd.DataFrame(rows), f"language model {config.cell} {config.units} x {config.layers}, embedding "
              f"{config.embedding_size}, {data.vocab_size:,} ids, batch {config.batch_size} x "
              f"{config.sequence_length}; medians of {args.rounds} rounds x {args.batches} batches", args.out)


if __name__ == "__main__":
    main()
