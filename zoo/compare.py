"""Runs side by side: mlflow.search_runs into pandas, one row per variant, over seeds.

    table = compare("adding")                          # all runs of the experiment
    table = compare("adding", parent_run_id=sweep_id)  # one sweep; artifacts go to its parent run
"""

from pathlib import Path

import pandas as pd

from zoo import plots, tasks, tracking
from zoo.config import BEFORE, FIELDS, NOT_RESULTS, ONLY_FOR, joins_variant_name


def comparable(frame):
    """The runs that count: FINISHED, or FAILED by divergence (tag nan_step); not those still
    RUNNING, KILLED, or FAILED by an error."""
    if frame.empty:
        return frame.assign(diverged=pd.Series(dtype=bool))
    diverged = frame["status"].eq("FAILED") & frame.get("tags.nan_step", pd.Series(index=frame.index)).notna()
    return frame[frame["status"].eq("FINISHED") | diverged].assign(diverged=diverged)


def matching(frame, configs):
    """{index in configs: the newest run of `frame` whose params are that configuration} (configs:
    dicts of every Config field). Fields in NOT_RESULTS are not compared, nor those of ONLY_FOR
    for other tasks; a run logged before a field existed matches where the configuration has the
    value it ran with (BEFORE, else the field's default)."""
    found = {}
    if frame.empty:
        return found
    newest_first = frame.sort_values("start_time", ascending=False)
    columns = {}  # each field's logged values, read once for every configuration
    for i, config in enumerate(configs):
        same = pd.Series(True, index=newest_first.index)
        for name, value in config.items():
            if name in NOT_RESULTS or config.get("task") not in ONLY_FOR.get(name, (config.get("task"),)):
                continue
            if name not in columns:
                columns[name] = logged(newest_first, name)
            same &= columns[name].eq(str(value))
        if same.any():
            found[i] = newest_first[same].iloc[0]
    return found


def logged(frame, name):
    """The logged values of configuration field `name` as strings; a run logged before the field
    existed (no such param) ran with the value BEFORE names, else its default, as `matching`
    reads it; "-" where the field does not apply to the run's task (ONLY_FOR)."""
    values = frame.get(f"params.{name}", pd.Series(None, index=frame.index, dtype=object)).astype(object)
    missing = str(BEFORE.get(name, FIELDS[name].default)) if name in FIELDS else "-"
    values = values.where(values.notna(), missing).astype(str)
    if name in ONLY_FOR and "params.task" in frame:
        values = values.where(frame["params.task"].isin(ONLY_FOR[name]), "-")
    return values


def labelled(frame):
    """`frame` with column `variant`: the variant name, plus every configuration field that differs
    between runs and joins a variant name (zoo.config.joins_variant_name), where the name does not
    show: runs are pooled over seeds only, never over different configurations. Returns (frame, [the differing fields])."""
    params = {c[len("params."):]: logged(frame, c[len("params."):]) for c in frame if c.startswith("params.")}
    differing = [name for name, values in params.items()
                 if values.nunique() > 1 and joins_variant_name(name)]
    names = []
    for i, row in frame.iterrows():
        extra = [f"{name}{params[name][i]}" for name in differing
                 if f"{name}{params[name][i]}" not in str(row["tags.variant"])]
        names.append("-".join([str(row["tags.variant"]), *extra]))
    return frame.assign(variant=names), differing


def summarize(frame, metric):
    """One row per variant (one configuration, pooled over seeds): runs, diverged, mean and std
    over seeds of the final metrics."""
    finals = [f"test_{metric}", f"baseline_test_{metric}", "val_loss", "train_seconds"]
    columns = {f"metrics.{name}": name for name in finals if f"metrics.{name}" in frame}
    data = frame.rename(columns=columns)
    grouped = data.groupby("variant", sort=False)
    summary = grouped.agg(runs=("variant", "size"), diverged=("diverged", "sum"))
    for name in columns.values():
        summary[f"{name}_mean"] = grouped[name].mean()
        summary[f"{name}_std"] = grouped[name].std()
    return summary.reset_index()


def newest_baselines(runs, compared=None):
    """The newest FINISHED run of each strong baseline (zoo.baselines: runs tagged `baseline`) and
    dataset of `runs` (zoo.tracking.runs or zoo.records.frame); given `compared` (the cells' runs),
    only those fitted on their data (same dataset, limit, train_limit, split_seed)."""
    if runs.empty or "tags.baseline" not in runs:
        return runs.iloc[:0]
    fitted = runs[runs["tags.baseline"].notna() & runs["status"].eq("FINISHED")]
    if compared is not None:
        data = ("dataset", "limit", "train_limit", "split_seed")
        used = {tuple(values) for values in zip(*(logged(compared, name) for name in data))}
        fitted = fitted[[tuple(values) in used for values in zip(*(logged(fitted, name) for name in data))]]
    return fitted.sort_values("start_time").groupby(["tags.baseline", "params.dataset"], sort=False).tail(1)


def strong_baselines(everything, compared, metric):
    """Rows like `summarize`'s for the newest strong baselines of `everything` fitted on the data of
    the `compared` runs, named "baseline: <name> (<dataset>)"."""
    fitted = pd.DataFrame() if compared.empty else newest_baselines(everything, compared)
    if fitted.empty:
        return pd.DataFrame()
    fitted = fitted.sort_values(["tags.baseline", "params.dataset"])
    return pd.DataFrame([{"variant": f"baseline: {run['tags.baseline']} ({run['params.dataset']})", "runs": 1,
                          "diverged": 0, **{f"{key}_mean": run.get(f"metrics.{key}")
                                            for key in (f"test_{metric}", "val_loss", "train_seconds")}}
                         for _, run in fitted.iterrows()])


def against_baseline(summary, task):
    """One line: the count baseline of the task (zoo.tasks: count_baseline) against the best
    variant's mean test metric; a grid whose best variant does not beat it is a smoke test."""
    metric = None if task is None else task.metric
    columns = (f"test_{metric}_mean", f"baseline_test_{metric}_mean")
    if task is None or not set(columns) <= set(summary) or summary[columns[0]].isna().all():
        return ""
    scores = summary[columns[0]]
    at = scores.idxmin() if task.lower_is_better else scores.idxmax()
    best, baseline = float(scores[at]), float(summary.loc[at, columns[1]])
    beats = best < baseline if task.lower_is_better else best > baseline
    line = (f"Count baseline ({task.count_baseline_name}), fitted on the same training data: test {metric} "
            f"{baseline:.4g}; best variant ({summary.loc[at, 'variant']}): {best:.4g}")
    return line + (", better." if beats else ", NOT better: at this size the grid is a smoke test and "
                   "compares nothing.")


def compare(experiment, parent_run_id=None, out_dir=None, configs=None):
    """Prints and returns the comparison table of `experiment`; writes it as CSV and Markdown
    with a bar chart and overlaid validation-loss curves to `out_dir` (default
    mlruns/compare/<experiment>), and logs them to `parent_run_id` if given.

    Runs compared: the newest run of each of `configs` (dicts of Config fields) if given, wherever
    it was logged (a resumed sweep's runs may sit under an earlier parent); else the children of
    `parent_run_id` if given; else every run of the experiment. The strong baselines fitted on the
    same data (zoo.baselines) follow as rows "baseline: <name> (<dataset>)".
    """
    everything = tracking.runs(experiment, None if configs is not None else parent_run_id)
    if everything.empty or "tags.variant" not in everything:
        print(f"{experiment}: no runs yet")
        return pd.DataFrame()
    frame = comparable(everything[everything["tags.variant"].notna()])
    if configs is not None:
        frame = pd.DataFrame(list(matching(frame, configs).values()))
    frame, differing = labelled(frame) if not frame.empty else (frame, [])
    if frame.empty:
        print(f"{experiment}: no finished or diverged runs yet")
        return pd.DataFrame()
    metric = tasks.TASKS[experiment].metric if experiment in tasks.TASKS else "loss"
    summary = summarize(frame, metric)
    strong = strong_baselines(everything if parent_run_id is None and configs is None else tracking.runs(experiment),
                              frame, metric)
    if not strong.empty:  # what a practitioner would use instead, fitted on the same data, as rows of the table
        summary = pd.concat([summary, strong], ignore_index=True)
    out_dir = Path(out_dir or tracking.STORE_DIR / "compare" / experiment)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = summary.to_markdown(index=False, floatfmt=".4g")
    verdict = against_baseline(summary[~summary["variant"].str.startswith("baseline: ")], tasks.TASKS.get(experiment))
    if verdict:
        markdown += f"\n\n{verdict}"
    summary.to_csv(out_dir / "comparison.csv", index=False)
    (out_dir / "comparison.md").write_text(markdown + "\n")
    files = [out_dir / "comparison.csv", out_dir / "comparison.md"]

    if f"test_{metric}_mean" in summary:
        figure = plots.comparison_bars(summary, f"test_{metric}", title=experiment)
        figure.savefig(out_dir / "comparison.png", dpi=100)
        files.append(out_dir / "comparison.png")
    curves = {f"{row['variant']} seed {row.get('params.seed', '?')}":
              tracking.metric_history(row["run_id"], "val_loss") for _, row in frame.iterrows()}
    figure = plots.paneled_curves({"": {k: v for k, v in curves.items() if v}}, "val_loss", title=experiment)
    figure.savefig(out_dir / "val_loss_curves.png", dpi=100)
    files.append(out_dir / "val_loss_curves.png")
    if parent_run_id is not None:
        tracking.log_artifacts(parent_run_id, files)
    fields = f"; variants also differ in {', '.join(differing)}" if differing else ""
    print(f"\n{experiment} ({len(frame)} runs{fields}; written to {out_dir})\n{markdown}")
    return summary
