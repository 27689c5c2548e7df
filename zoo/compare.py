"""Runs side by side: mlflow.search_runs into pandas, one row per variant, over seeds.

    table = compare("adding")                          # all runs of the experiment
    table = compare("adding", parent_run_id=sweep_id)  # one sweep; artifacts go to its parent run
"""

from pathlib import Path

import pandas as pd

from zoo import plots, tasks, tracking


def summarize(frame, metric):
    """One row per variant: runs, diverged, mean and std over seeds of the final metrics."""
    finals = [f"test_{metric}", f"baseline_test_{metric}", "val_loss", "train_seconds"]
    columns = {f"metrics.{name}": name for name in finals if f"metrics.{name}" in frame}
    data = frame.rename(columns=columns).assign(
        variant=frame["tags.variant"],
        diverged=frame["status"].eq("FAILED") & frame.get("tags.nan_step", pd.Series(index=frame.index)).notna(),
    )
    grouped = data.groupby("variant", sort=False)
    summary = grouped.agg(runs=("variant", "size"), diverged=("diverged", "sum"))
    for name in columns.values():
        summary[f"{name}_mean"] = grouped[name].mean()
        summary[f"{name}_std"] = grouped[name].std()
    return summary.reset_index()


def against_baseline(summary, task):
    """One line: the count baseline of the task (zoo.tasks: count_baseline) against the best
    variant's mean test metric; a grid whose best variant does not beat it is a smoke test."""
    metric = None if task is None else task.metric
    columns = (f"test_{metric}_mean", f"baseline_test_{metric}_mean")
    if task is None or not set(columns) <= set(summary) or summary[columns[0]].isna().all():
        return ""
    baseline = float(summary[columns[1]].mean())
    scores = summary[columns[0]]
    best = scores.min() if task.lower_is_better else scores.max()
    beats = best < baseline if task.lower_is_better else best > baseline
    line = (f"Count baseline ({task.count_baseline_name}), fitted on the same training data: test {metric} "
            f"{baseline:.4g}; best variant: {best:.4g}")
    return line + (", better." if beats else ", NOT better: at this size the grid is a smoke test and "
                   "compares nothing.")


def compare(experiment, parent_run_id=None, out_dir=None):
    """Prints and returns the comparison table of `experiment`; writes it as CSV and Markdown
    with a bar chart and overlaid validation-loss curves to `out_dir` (default
    mlruns/compare/<experiment>), and logs them to `parent_run_id` if given."""
    frame = tracking.runs(experiment, parent_run_id)
    if frame.empty or "tags.variant" not in frame:
        print(f"{experiment}: no runs yet")
        return pd.DataFrame()
    frame = frame[frame["tags.variant"].notna()]
    metric = tasks.TASKS[experiment].metric if experiment in tasks.TASKS else "loss"
    summary = summarize(frame, metric)
    out_dir = Path(out_dir or tracking.STORE_DIR / "compare" / experiment)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = summary.to_markdown(index=False, floatfmt=".4g")
    verdict = against_baseline(summary, tasks.TASKS.get(experiment))
    if verdict:
        markdown += f"\n\n{verdict}"
    summary.to_csv(out_dir / "comparison.csv", index=False)
    (out_dir / "comparison.md").write_text(markdown + "\n")
    files = [out_dir / "comparison.csv", out_dir / "comparison.md"]

    if f"test_{metric}_mean" in summary:
        figure = plots.comparison_bars(summary, f"test_{metric}", title=experiment)
        figure.savefig(out_dir / "comparison.png", dpi=100)
        files.append(out_dir / "comparison.png")
    curves = {f"{row['tags.variant']} seed {row.get('params.seed', '?')}":
              tracking.metric_history(row["run_id"], "val_loss") for _, row in frame.iterrows()}
    figure = plots.overlaid_curves({k: v for k, v in curves.items() if v}, "val_loss", title=experiment)
    figure.savefig(out_dir / "val_loss_curves.png", dpi=100)
    files.append(out_dir / "val_loss_curves.png")
    plots.plt.close("all")
    if parent_run_id is not None:
        tracking.log_artifacts(parent_run_id, files)
    print(f"\n{experiment} ({len(frame)} runs; written to {out_dir})\n{markdown}")
    return summary
