"""Why gradients vanish or explode (rnn-notes.md section 3), measured at initialisation.

A vanilla RNN, linear or tanh, with its recurrent kernel an orthogonal matrix scaled to spectral
radius rho. A loss at the last step sends its gradient back through t - k Jacobians; plotted is
||dL/dh_k|| relative to the last step, against the distance, for rho in {0.5, 0.9, 1.0, 1.1, 1.5},
beside the bound 0.25^k of a chain of sigmoids. Linear: the norm scales exactly like rho^k
(vanishes below 1, explodes above 1). tanh: phi' <= 1 can only shrink it further.
Logged as one MLflow run (experiment `spectral_radius`) with the figure.

    python experiments/spectral_radius.py
    python experiments/spectral_radius.py --length 100
"""

import argparse

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from zoo import plots, tracking  # noqa: E402
from zoo.diagnostics import gradient_decay  # noqa: E402

RADII = (0.5, 0.9, 1.0, 1.1, 1.5)
ACTIVATIONS = ("linear", "tanh")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--length", type=int, default=50, help="sequence length T")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.length < 2 or args.units < 1:
        parser.error("--length must be >= 2 and --units >= 1")

    curves, rows = {}, []
    for activation in ACTIVATIONS:
        for radius in RADII:
            ratios = gradient_decay(activation, radius, args.length, args.units, seed=args.seed)
            curves[(activation, radius)] = ratios
            per_step = np.exp(np.mean(np.diff(np.log(ratios))))  # geometric mean factor per step
            rows.append({"activation": activation, "rho": radius, "factor_per_step": per_step,
                         f"ratio_at_{args.length - 1}": ratios[-1]})
    table = pd.DataFrame(rows)
    distances = np.arange(args.length)
    figure = plots.gradient_decay_curves(curves, bound=("sigmoid chain 0.25^k", 0.25 ** distances),
                                         title=f"Gradient norm against distance at initialisation, T = {args.length}")
    params = vars(args) | {"radii": list(RADII), "activations": list(ACTIVATIONS)}
    with tracking.start_run("spectral_radius", "spectral-radius-at-init", params=params) as recorder:
        recorder.log_metrics({f"factor_per_step/{r['activation']}/rho{r['rho']:g}": r["factor_per_step"]
                              for r in rows})
        for (activation, radius), ratios in curves.items():
            recorder.log_series(f"grad_ratio/{activation}/rho{radius:g}", ratios)
        recorder.log_text(table.to_markdown(index=False), "spectral_radius.md")
        recorder.log_figure(figure, "spectral_radius.png")
    print(table.to_markdown(index=False, floatfmt=".4g"))
    print(f"MLflow run {recorder.run_id} (experiment spectral_radius): spectral_radius.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
