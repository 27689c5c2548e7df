"""Do two MLflow stores hold the same results? One row per run (experiment and run name), the
final metrics of each store side by side, and the largest difference: how a refactoring shows
that the same configuration and seed still give the same numbers.

    python benchmarks/same_numbers.py BEFORE_STORE AFTER_STORE [--metrics test_perplexity,val_loss]

A store is a tracking URI or a folder holding mlflow.db (e.g. a clone's mlruns/). Runs that ran
more than once in a store (by name) are compared in order of start time.
"""

import argparse
import sys
from pathlib import Path

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

import mlflow  # noqa: E402
import pandas as pd  # noqa: E402


def uri(store):
    path = Path(store)
    return f"sqlite:///{(path / 'mlflow.db').resolve()}" if path.is_dir() else store


def finals(store):
    """One row per child run: experiment, run name, occurrence, status and final metrics."""
    mlflow.set_tracking_uri(uri(store))
    frames = []
    for experiment in mlflow.search_experiments():
        frame = mlflow.search_runs(experiment_ids=[experiment.experiment_id], order_by=["start_time ASC"])
        if frame.empty:
            continue
        frame = frame[frame.get("tags.mlflow.parentRunId", pd.Series(index=frame.index)).notna()
                      | (experiment.name == "spectral_radius")]
        frame = frame.assign(experiment=experiment.name, run=frame["tags.mlflow.runName"])
        frame["occurrence"] = frame.groupby("run").cumcount()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--metrics", default="", help="comma-separated; default: every test_ metric and val_loss")
    args = parser.parse_args(argv)
    before, after = finals(args.before), finals(args.after)
    keys = ["experiment", "run", "occurrence"]
    joined = before.merge(after, on=keys, how="outer", suffixes=("_before", "_after"), indicator=True)
    metrics = args.metrics.split(",") if args.metrics else sorted(
        {c[len("metrics."):-len("_before")] for c in joined if c.startswith("metrics.")
         and c.endswith("_before") and (c.startswith("metrics.test_") or c == "metrics.val_loss_before")
         or c.startswith("metrics.factor_per_step") and c.endswith("_before")})
    rows = []
    for _, row in joined.iterrows():
        out = {"experiment": row["experiment"], "run": row["run"], "in": row["_merge"],
               "status": f"{row.get('status_before')} / {row.get('status_after')}"}
        worst = 0.0
        for metric in metrics:
            a, b = row.get(f"metrics.{metric}_before"), row.get(f"metrics.{metric}_after")
            if pd.isna(a) and pd.isna(b):
                continue
            out[metric] = f"{a:.6g} / {b:.6g}"
            if not (pd.isna(a) or pd.isna(b)):
                worst = max(worst, abs(a - b) / max(abs(a), 1e-12))
        out["max_rel_diff"] = worst
        rows.append(out)
    table = pd.DataFrame(rows).fillna("")
    print(table.to_markdown(index=False, floatfmt=".2g"))
    same = (table["in"] == "both").all() and (table["max_rel_diff"] == 0).all()
    print(f"\n{len(table)} runs; {'identical' if same else 'NOT identical'} final metrics "
          f"(largest relative difference {table['max_rel_diff'].max():.2g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
