"""Long-range memory: which recurrent networks carry information across T steps?

Adding problem: T (value, marker) pairs with exactly two markers; the target is the sum of the
two marked values, and predicting the constant 1 scores MSE 0.167, so a model beats that only by
remembering across the sequence. Compared, as one MLflow sweep per task: vanilla tanh, vanilla
ReLU with identity initialisation (IRNN), GRU and LSTM, each without and with global-norm
clipping at 1.0, at a short and a long T. Expected from the literature: vanilla tanh stays near
the baseline at long T; IRNN, GRU and LSTM go well below it; ReLU without clipping diverges more
often. `--preset full` goes to T = 400 (as in the IRNN paper), adds the copy-memory task
(memoryless baseline 10 log 8 / (T + 20)) and the causal convolution stack (tcn).

    python experiments/long_range.py                     # quick: what make demo runs
    python experiments/long_range.py --preset full
    python experiments/long_range.py --set epochs=20     # any Config field of the base
"""

import argparse
import dataclasses
import sys

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from zoo import tasks  # noqa: E402
from zoo.config import apply_overrides  # noqa: E402
from zoo.errors import command  # noqa: E402
from zoo.presets import CLIPPING, LONG_RANGE, LONG_RANGE_BASE  # noqa: E402

SOLVED_MSE = 0.01


def baseline(task, length):
    """The memoryless baseline's held-out loss at T = length (the task's spec knows it)."""
    return tasks.get(task).baseline(length)


def summarize(task, results, configs):
    """One row per run: the final held-out loss against the baseline, when it was solved."""
    rows = []
    for config, result in zip(configs, results):
        loss = result.metrics.get("test_loss", np.nan)
        held_out = result.history.get("val_loss", [])
        solved = next((i + 1 for i, v in enumerate(held_out) if v <= SOLVED_MSE), None)
        rows.append({
            "T": config.sequence_length,
            "variant": config.variant(),
            "status": "diverged" if result.status == "FAILED" else "finished",
            "test_loss": loss,
            "vs_baseline": loss / baseline(task, config.sequence_length),
            **({"steps_to_mse_0.01": solved * result.steps_per_epoch if solved else "not reached"}
               if tasks.get(task).metric == "mse" else {"test_accuracy": result.metrics.get("test_accuracy", np.nan)}),
            "train_seconds": result.metrics.get("train_seconds", np.nan),
        })
    return pd.DataFrame(rows)


def figure_panels(task, results, configs):
    """[(label, baseline, {variant: (held-out loss by epoch, final gradient flow by distance)})]."""
    panels = {}
    for config, result in zip(configs, results):
        flow = None
        if result.flow and result.flow[-1][1]:
            flow = next(iter(result.flow[-1][1].values()))[::-1]  # first layer, by distance
        length = config.sequence_length
        panel = panels.setdefault(length, (f"{task}, T = {length}", baseline(task, length), {}))
        panel[2][config.variant()] = (result.history.get("val_loss", []), flow)
    return list(panels.values())


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(LONG_RANGE), default="quick")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a field of the base configuration, e.g. --set epochs=20")
    args = parser.parse_args(argv)
    preset = LONG_RANGE[args.preset]
    base = apply_overrides(dataclasses.replace(LONG_RANGE_BASE, **preset["base"]), args.set)
    sweeps = {task: [apply_overrides(dataclasses.replace(base, task=task, dataset=task,
                                                         sequence_length=length, **cell,
                                                         clipping=clipping), [])
                     for length in preset["lengths"] for cell in preset["cells"]
                     for clipping in CLIPPING]
              for task in preset["tasks"]}
    from zoo import plots, tracking
    from zoo.train import sweep

    for task, configs in sweeps.items():
        done = sweep(configs, resume=False)  # its figure needs every run's gradient flow in memory
        results = done.results
        table = summarize(task, results, configs)
        title = f"{task}: held-out loss against the baseline, and gradient flow"
        figure = plots.long_range_summary(figure_panels(task, results, configs), title=title)
        out = tracking.STORE_DIR / "compare" / task
        out.mkdir(parents=True, exist_ok=True)
        figure.savefig(out / "long_range.png", dpi=90)
        (out / "long_range.md").write_text(table.to_markdown(index=False, floatfmt=".4g") + "\n")
        tracking.log_artifacts(done.run_id, [out / "long_range.png", out / "long_range.md"])
        print(f"\n{task}: test loss against the baseline ({tasks.get(task).baseline_name}); "
              f"{(table['status'] == 'diverged').sum()} of {len(table)} runs diverged.")
        print(table.to_markdown(index=False, floatfmt=".4g"))
        print(f"figure: {out / 'long_range.png'} (also an artifact of sweep run {done.run_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
