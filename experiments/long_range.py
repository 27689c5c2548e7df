"""The adding problem: can a recurrent network carry two numbers across T steps?

Each sequence holds T (value, marker) pairs with exactly two markers; the target is the sum of
the two marked values. Predicting the constant 1 scores MSE 0.167, so a model beats that only by
remembering across the sequence. Compared, as one MLflow sweep in the `adding` experiment:
vanilla tanh, vanilla ReLU with identity initialisation (IRNN), GRU and LSTM, each without and
with global-norm clipping at 1.0. Expected from the literature: vanilla tanh stays near the
baseline as T grows; IRNN, GRU and LSTM go well below it; ReLU without clipping can diverge.

    python experiments/long_range.py                        # T = 50, 8 runs (make demo)
    python experiments/long_range.py --set sequence_length=100 --set epochs=20
"""

import argparse
import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from zoo.config import Config, apply_overrides  # noqa: E402
from zoo.data.synthetic import ADDING_BASELINE_MSE  # noqa: E402
from zoo.errors import UserError  # noqa: E402

BASE = Config(task="adding", dataset="adding", sequence_length=50, examples=10000, units=64,
              epochs=10, batch_size=64, optimizer="adam", learning_rate=1e-3, clip_threshold=1.0)
CELLS = [
    dict(cell="vanilla", activation="tanh"),
    dict(cell="vanilla", activation="relu", recurrent_initializer="identity"),  # IRNN
    dict(cell="gru"),
    dict(cell="lstm"),
]
CLIPPING = ["none", "global_norm"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a field of the base configuration, e.g. --set epochs=20")
    args = parser.parse_args(argv)
    try:
        base = apply_overrides(BASE, args.set)
        configs = [dataclasses.replace(base, **cell, clipping=clipping)
                   for cell in CELLS for clipping in CLIPPING]
        from zoo.train import sweep

        results, table = sweep(configs)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    table["test_mse_vs_baseline"] = table["test_mse_mean"] / ADDING_BASELINE_MSE
    print(f"\nAdding problem, T = {base.sequence_length}; constant-prediction baseline MSE "
          f"{ADDING_BASELINE_MSE:.3f}. Diverged runs: {sum(r.status == 'FAILED' for r in results)}.")
    print(table[["variant", "runs", "diverged", "test_mse_mean", "test_mse_vs_baseline",
                 "train_seconds_mean"]].to_markdown(index=False, floatfmt=".4g"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
