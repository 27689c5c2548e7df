"""The adding problem: can a recurrent layer carry two numbers across T steps?

Trains each variant on the same generated data and prints its test MSE against the constant
baseline 0.167. Expected from the literature: vanilla tanh stays near the baseline as T grows;
ReLU with identity initialisation (IRNN) plus clipping, GRU and LSTM go well below it.

    python experiments/long_range.py                       # T = 50, all variants
    python experiments/long_range.py --length 100 --epochs 20
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pandas as pd  # noqa: E402

from zoo.data.synthetic import ADDING_BASELINE_MSE, adding_problem  # noqa: E402
from zoo.layers import VanillaRNN  # noqa: E402

VARIANTS = {
    "vanilla-tanh": lambda units: VanillaRNN(units),
    "vanilla-relu-irnn": lambda units: VanillaRNN(
        units, activation="relu", recurrent_initializer=keras.initializers.Identity()
    ),
    "gru": lambda units: keras.layers.GRU(units),
    "lstm": lambda units: keras.layers.LSTM(units),
}


def train(variant, data, args):
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = data
    model = keras.Sequential([
        keras.Input(x_train.shape[1:]),
        VARIANTS[variant](args.units),
        keras.layers.Dense(1),
    ])
    optimizer = keras.optimizers.Adam(args.learning_rate, global_clipnorm=args.clip)
    model.compile(optimizer, "mse")
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_split=0.1, verbose=2)
    return {
        "variant": variant,
        "test_mse": model.evaluate(x_test, y_test, verbose=0),
        "best_val_mse": min(history.history["val_loss"]),
        "train_seconds": round(time.perf_counter() - start, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--length", type=int, default=50, help="sequence length T")
    parser.add_argument("--examples", type=int, default=10000)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--clip", type=float, default=1.0, help="global-norm clipping threshold")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data = (adding_problem(args.examples, args.length, seed=args.seed),
            adding_problem(args.examples // 10, args.length, seed=args.seed + 1))
    rows = []
    for variant in args.variants:
        print(f"\n== {variant}, T = {args.length}")
        rows.append(train(variant, data, args))
    table = pd.DataFrame(rows)
    table["vs_baseline"] = (table["test_mse"] / ADDING_BASELINE_MSE).round(3)
    table["test_mse"] = table["test_mse"].round(4)
    table["best_val_mse"] = table["best_val_mse"].round(4)
    print(f"\nAdding problem, T = {args.length}; constant-prediction baseline MSE {ADDING_BASELINE_MSE:.3f}")
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
