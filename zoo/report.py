"""A study's results as a person reads them, from the MLflow store alone.

    python -m zoo report                   # every study: docs/results/<study>/README.md + README.md's table
    python -m zoo report --study sst2 --readme ""      # one study, README untouched
    python -m zoo report --experiment adding           # a sweep as one self-contained HTML file

For each study of zoo.presets.STUDIES: the recipe search (validation loss of every searched
optimizer and learning rate, the choice marked) and the grid (cells x clipping over seeds: mean
and std of the test metric, diverged seeds, training time, parameters), as Markdown; and the
figures: validation curves per variant, gradient norm and clipped fraction over training, the
gradient flow after training. Each study's Markdown is its page, docs/results/<study>/README.md;
the README's block between the `study-results` markers is the headline table (each study's best
cell against its strongest baseline, linking to the pages), so that both show what the records
hold and nothing typed.
"""

import base64
import dataclasses
import functools
import html
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from zoo import compare, plots, records, tasks, tracking
from zoo.config import CLIPPING, FIELDS
from zoo.errors import UserError
from zoo.presets import STUDIES
from zoo.study import budgets, cell_of, grid_configs, pretrain_configs, resolved, search_configs, sources_of


@functools.cache
def _stored(run_id, key):
    return tuple(tracking.metric_history(run_id, key))


_RECORDED = {}  # {run_id: {key: [values]}} of the records a study's section is rendered from


def _history(run_id, key):
    """A run's metric history: from its record (zoo.records) while a study is rendered from
    records, else from the store, read once per report (each report clears the cache when it
    starts and ends, so the next one reads runs still being written afresh)."""
    if run_id in _RECORDED:
        return list(_RECORDED[run_id].get(key, []))
    return list(_stored(run_id, key))


def _reading_once(report_function):
    """A report that reads each metric history from the store once (a cache of its own lifetime)."""
    @functools.wraps(report_function)
    def reported(*args, **kwargs):
        _stored.cache_clear()
        try:
            return report_function(*args, **kwargs)
        finally:
            _stored.cache_clear()
    return reported


MARKERS = ("<!-- study-results:start (python -m zoo report writes this block) -->", "<!-- study-results:end -->")


def runs_of(frame, labelled_configs):
    """DataFrame of the newest comparable run of `frame` (runs or records) of each (labels,
    config): the labels as columns."""
    found = compare.matching(compare.comparable(frame), [dataclasses.asdict(config) for _, config in labelled_configs])
    rows = [{**labelled_configs[i][0], **row.to_dict()} for i, row in found.items()]
    return pd.DataFrame(rows)


def _score(values, percent):
    values = values.dropna()
    if values.empty:
        return "-"
    scale, mean, spread = (100, ".2f", ".2f") if percent else (1, ".4g", ".2g")
    return format(values.mean() * scale, mean) + (f" ± {values.std() * scale:{spread}}" if len(values) > 1 else "")


def _formatted(value, spec):
    """`value` in format `spec`, or "-" where no run logged it (NaN)."""
    return "-" if value != value else format(value, spec)


def _column(frame, name):
    return frame[name] if name in frame else pd.Series(np.nan, index=frame.index)


def kept_epochs(runs):
    """Each run's kept epoch (1-based; NaN where none): the logged kept_epoch, or for a run from
    before it was logged the epoch it tested (the lowest val_loss with early stopping, else the last)."""
    kept = []
    for _, run in runs.iterrows():
        logged = run.get("metrics.kept_epoch", np.nan)
        if logged == logged:
            kept.append(float(logged))
            continue
        losses = _history(run["run_id"], "val_loss")
        finite = [i for i, loss in enumerate(losses) if loss == loss]
        patience = str(run.get("params.patience", "0")) not in ("0", "nan")
        kept.append(float((min(finite, key=losses.__getitem__) if patience else finite[-1]) + 1) if finite else np.nan)
    return pd.Series(kept, index=runs.index, dtype=float)


def kept_validation(runs, metric):
    """Each run's validation metric at its kept epoch (kept_epochs)."""
    values = []
    for (_, run), kept in zip(runs.iterrows(), kept_epochs(runs)):
        scores = _history(run["run_id"], f"val_{metric}")
        values.append(scores[int(kept) - 1] if kept == kept and kept <= len(scores) else np.nan)
    return pd.Series(values, index=runs.index, dtype=float)


def _largest(runs, key):
    """The largest logged value of metric `key` over `runs` (inf if one was infinite), or "-"."""
    values = np.array([v for run_id in runs["run_id"] for v in _history(run_id, key)], dtype=float)
    values = values[~np.isnan(values)]
    return f"{values.max():.3g}" if values.size else "-"


def _first_epoch_percent(runs, key):
    """The mean over `runs` of metric `key`'s first epoch, in percent, or "-" where none logged it."""
    values = [history[0] for run_id in runs["run_id"] if (history := _history(run_id, key))]
    return f"{100 * np.mean(values):.1f}" if values else "-"


def grid_table(study, frame):
    """One row per cell x clipping: seeds finished and diverged, the validation metric at the kept
    epoch and the test metric (mean ± std over the finished seeds), epochs (diverged seeds too),
    the largest gradient norm before clipping of any seed (of those logged: every grad_norm_every
    steps), the share of the first epoch's steps clipped (mean over seeds), training time and
    parameters."""
    task = tasks.get(study.base.task)
    metric, percent = task.metric, task.metric == "accuracy"
    rows = []
    for (cell, clipping), runs in frame.groupby(["cell", "clipping"], sort=False):
        recipe = study.recipes[cell]
        rows.append({
            "cell": cell, "clipping": clipping,
            "recipe": f"{recipe['optimizer']} {recipe['learning_rate']:g}",
            "seeds": f"{int((~runs['diverged']).sum())} of {len(study.seeds)}",
            "diverged": int(runs["diverged"].sum()),
            f"val {metric}" + (" %" if percent else "") + " (kept epoch)": _score(
                kept_validation(runs[~runs["diverged"]], metric), percent),
            f"test {metric}" + (" %" if percent else ""): _score(_column(runs, f"metrics.test_{metric}"), percent),
            "test loss": _score(_column(runs, "metrics.test_loss"), False),
            "epochs": _score(_column(runs, "metrics.epochs_run"), False),
            "kept epoch": _score(kept_epochs(runs[~runs["diverged"]]), False),
            "largest grad norm": _largest(runs, "grad_norm"),
            "clipped in epoch 1 %": _first_epoch_percent(runs, "clipped_fraction"),
            "train min": _formatted(_column(runs, "metrics.train_seconds").mean() / 60, ".1f"),
            "parameters": _formatted(_column(runs, "metrics.parameters").max(), ",.0f"),
        })
    table = pd.DataFrame(rows)
    baseline = _column(frame, f"metrics.baseline_test_{metric}").dropna()
    note = "" if baseline.empty else (f"Count baseline ({task.count_baseline_name}), same training data: "
                                      f"test {metric} {baseline.iloc[0] * (100 if percent else 1):.4g}.")
    return table, note


DATA_PARAMS = ("task", "dataset", "limit", "train_limit", "split_seed")


def baselines_table(study, baselines):
    """One row per strong baseline run (role baseline): its name and what it is, the setting
    chosen on validation data, the validation and test metric, fit time."""
    metric = tasks.get(study.base.task).metric
    percent = metric == "accuracy"
    scale = 100 if percent else 1
    rows = []
    for _, run in baselines.sort_values("tags.baseline").iterrows():
        setting = ", ".join(f"{c[len('params.'):]}={run[c]}" for c in sorted(baselines.columns)
                            if c.startswith("params.") and c[len("params."):] not in DATA_PARAMS
                            and isinstance(run[c], str))
        rows.append({"baseline": run["tags.baseline"], "what": run.get("tags.baseline_description", ""),
                     "setting (chosen on validation)": setting,
                     f"val {metric}" + (" %" if percent else ""): _formatted(run.get(f"metrics.val_{metric}", np.nan) * scale, ".4g"),
                     f"test {metric}" + (" %" if percent else ""): _formatted(run.get(f"metrics.test_{metric}", np.nan) * scale, ".4g"),
                     "fit s": _formatted(run.get("metrics.train_seconds", np.nan), ".0f")})
    return pd.DataFrame(rows)


def t_interval(differences, level=0.95):
    """(mean, low, high) of the mean of `differences` with Student's t interval (n - 1 degrees of
    freedom); low and high NaN with fewer than 2 values."""
    from scipy import stats

    values = np.asarray(differences, float)
    if values.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half


def claims(study, frame, baselines, metric):
    """The comparisons the study's conclusions rest on, as (claim, a, b): a and b are (cell,
    clipping) or ("baseline", name). Clipping against none per cell; IRNN against vanilla tanh,
    GRU and LSTM against vanilla tanh, the tcn against the LSTM, in each clipping mode; the best
    cell (by mean test metric) and every cell with clipping against the strongest baseline (by
    test metric)."""
    cells = [cell for cell in study.cells if cell in set(frame["cell"])]
    found = [(f"{cell}: clipping − none", (cell, "global_norm"), (cell, "none")) for cell in cells
             if {"none", "global_norm"} <= set(study.clippings)]
    for clipping in study.clippings:
        found += [(f"{a} − {b} ({CLIPPING[clipping].label})", (a, clipping), (b, clipping))
                  for a, b in study.pairs if a in cells and b in cells]
    lower = tasks.get(study.base.task).lower_is_better
    finished = frame[~frame["diverged"]]
    column = f"metrics.test_{metric}"
    if not baselines.empty and column in baselines and column in finished and finished[column].notna().any():
        means = finished.groupby(["cell", "clipping"])[column].mean()
        best = means.idxmin() if lower else means.idxmax()
        strongest = baselines.sort_values(column, ascending=lower).iloc[0]["tags.baseline"]
        found.append((f"best cell ({best[0]} {CLIPPING[best[1]].label}) − strongest baseline ({strongest})",
                      best, ("baseline", strongest)))
        found += [(f"{cell} (clip) − {strongest}", (cell, "global_norm"), ("baseline", strongest))
                  for cell in cells if (cell, "global_norm") != best]
    return found


def intervals_table(study, frame, baselines):
    """One row per claim: the difference a − b of the test metric, paired by seed (a seed where
    either side diverged is left out), its mean and 95% t interval; "differs" only where the
    interval excludes 0. Against a baseline (one fit, no seed) the cell's seeds against its value."""
    task = tasks.get(study.base.task)
    metric, scale = task.metric, (100 if task.metric == "accuracy" else 1)
    column = f"metrics.test_{metric}"
    values = {(row["cell"], row["clipping"], int(row["seed"])): (np.nan if row["diverged"] else row.get(column, np.nan))
              for _, row in frame.iterrows()}
    fixed = {("baseline", row["tags.baseline"]): row.get(column, np.nan) for _, row in baselines.iterrows()}
    rows = []
    for claim, a, b in claims(study, frame, baselines, metric):
        differences, left_out = [], 0
        for seed in study.seeds:
            first = values.get((*a, seed), np.nan)
            second = fixed[b] if b in fixed else values.get((*b, seed), np.nan)
            if (*a, seed) not in values or (b not in fixed and (*b, seed) not in values):
                continue
            if first == first and second == second:
                differences.append((first - second) * scale)
            else:
                left_out += 1
        if not differences and not left_out:
            continue
        mean, low, high = t_interval(differences)
        verdict = ("-" if low != low else "differs" if low > 0 or high < 0 else "no difference shown")
        rows.append({"claim (a − b)": claim, "seeds paired": len(differences),
                     "left out (diverged)": left_out, "mean a − b": _formatted(mean, ".3g"),
                     "95% interval": "-" if low != low else f"[{low:.3g}, {high:.3g}]", "verdict": verdict})
    return pd.DataFrame(rows)


def pretraining_table(study, every):
    """One row per pretraining run of a transfer study (zoo.study.pretrain_configs) in `every`:
    which way it reads, its MLflow run, its data, epochs and kept epoch, validation and test
    perplexity (full softmax), training time and tokens per second."""
    rows = []
    for config in pretrain_configs(study):
        found = compare.matching(compare.comparable(every), [dataclasses.asdict(config)])
        if not found:
            continue
        run = found[0]
        rows.append({"language model": "backward (reverse=true)" if config.reverse else "forward",
                     "MLflow run": run["run_id"], "text": config.dataset,
                     "sampled softmax": config.sampled_softmax or "full",
                     "epochs": _formatted(run.get("metrics.epochs_run", np.nan), ".0f"),
                     "kept epoch": _formatted(run.get("metrics.kept_epoch", np.nan), ".0f"),
                     "val perplexity (kept epoch)": _formatted(
                         min([v for v in _history(run["run_id"], "val_perplexity") if v == v], default=np.nan), ".4g"),
                     "test perplexity": _formatted(run.get("metrics.test_perplexity", np.nan), ".4g"),
                     "train min": _formatted(run.get("metrics.train_seconds", np.nan) / 60, ".1f"),
                     "tokens/s": _formatted(run.get("metrics.tokens_per_sec", np.nan), ",.0f")})
    return pd.DataFrame(rows)


def runs_table(study, frame):
    """One row per grid run, in start order: its cell, clipping and seed, MLflow run id, start and
    end (UTC), wall and training time, and its test metric (or where and why it diverged) and loss."""
    metric = tasks.get(study.base.task).metric
    rows = []
    for _, run in frame.sort_values("start_time").iterrows():
        outcome = (f"diverged: {run.get('tags.nan_cause')}" if run["diverged"]
                   else _formatted(run.get(f"metrics.test_{metric}", np.nan), ".4g"))
        rows.append({"cell": run["cell"], "clipping": run["clipping"], "seed": run["seed"],
                     "MLflow run": run["run_id"], "start (UTC)": f"{run['start_time']:%Y-%m-%d %H:%M}",
                     "end (UTC)": f"{run['end_time']:%H:%M}",
                     "wall min": _formatted((run["end_time"] - run["start_time"]).total_seconds() / 60, ".1f"),
                     "train s": _formatted(run.get("metrics.train_seconds", np.nan), ".0f"),
                     f"test {metric}": outcome,
                     "test loss": _formatted(run.get("metrics.test_loss", np.nan), ".4g")})
    return pd.DataFrame(rows)


def search_table(study, frame):
    """One row per cell x optimizer x budget: the lowest validation loss at each searched learning
    rate (the mean over the search's seeds; "diverged" where a seed diverged), the study's recipe
    marked with *. Budgets: the successive-halving search's, smallest first (zoo.study.budgets)."""
    rows = []
    steps = budgets(study)
    for (cell, optimizer, rung), runs in frame.groupby(["cell", "optimizer", "rung"], sort=False):
        chosen = study.recipes.get(cell, {})
        cells = []
        for rate, seeds in runs.groupby("rate", sort=True):
            mark = "*" if chosen.get("optimizer") == optimizer and chosen.get("learning_rate") == rate else ""
            lowest = [min([v for v in _history(run_id, "val_loss") if v == v], default=np.nan)
                      for run_id in seeds["run_id"]]
            diverged = seeds["diverged"].any() or any(loss != loss for loss in lowest)
            cells.append(f"{rate:g}: {'diverged' if diverged else format(np.mean(lowest), '.4g')}{mark}")
        budget = ", ".join(f"{key}={value}" for key, value in steps[rung].items()) or "full size"
        rows.append({"cell": cell, "optimizer": optimizer, "budget": budget,
                     "lowest val_loss by learning rate (mean over seeds)": ", ".join(cells)})
    return pd.DataFrame(rows)


def _flow(row):
    """||dL/dh|| by distance to the last step, after training, of the run's first (forward) layer."""
    keys = [c[len("metrics."):] for c in row.index if c.startswith("metrics.grad_flow/") and row[c] == row[c]]
    if not keys:
        return None
    layers = sorted({key.rsplit("/", 1)[0] for key in keys}, key=lambda layer: ("backward" in layer, layer))
    last = max((key for key in keys if key.startswith(layers[0] + "/")), key=lambda k: int(k.rsplit("epoch", 1)[1]))
    return _history(row["run_id"], last)


def variant_series(groups):
    """{label: runs of one variant (DataFrame)} -> {curves, norms, clipped, flows}, each {label:
    [values]}: validation loss per epoch (mean over the seeds that reached it), gradient norm and
    clipped fraction over training and the gradient flow after training (of the lowest seed's run;
    flows only where the run logged one)."""
    series = {"curves": {}, "norms": {}, "clipped": {}, "flows": {}}
    for label, runs in groups.items():
        histories = [_history(run_id, "val_loss") for run_id in runs["run_id"]]
        longest = max(map(len, histories), default=0)
        if longest:  # mean over the seeds that reached each epoch
            series["curves"][label] = [np.nanmean([h[e] for h in histories if len(h) > e]) for e in range(longest)]
        first = runs.sort_values("seed" if "seed" in runs else "params.seed").iloc[0]
        series["norms"][label] = _history(first["run_id"], "grad_norm")
        series["clipped"][label] = _history(first["run_id"], "clipped_fraction")
        if flow := _flow(first):
            series["flows"][label] = flow
    return series


def variant_figures(series, title, panels=None, lines=None):
    """variant_series(...) -> {file name: matplotlib figure}: val_curves.png (every curve in one
    panel, or `panels` {panel title: {label: curve}}, with `lines` {label: value} across them; see
    plots.paneled_curves), gradients.png and, where runs logged it, gradient_flow.png."""
    panels = panels if panels is not None else {"": series["curves"]}
    written = {"val_curves.png": plots.paneled_curves(panels, "val_loss (mean over seeds)", lines, title),
               "gradients.png": plots.gradient_traces(series["norms"], series["clipped"], title=title)}
    if series["flows"]:
        written["gradient_flow.png"] = plots.gradient_flow_profiles(series["flows"], title=title)
    return written


def interactive_figures(series):
    """{file name of the static figure: [plotly Figures of the same numbers]} (hover: variant, value)."""
    figures = {"val_curves.png": [plots.interactive_curves(series["curves"], "epoch", "val_loss (mean over seeds)")],
               "gradients.png": [plots.interactive_curves(series["norms"], "logged training step",
                                                          "gradient norm before clipping", first_x=0, log_y=True),
                                 plots.interactive_curves(series["clipped"], "epoch", "share of steps clipped")]}
    if series["flows"]:
        figures["gradient_flow.png"] = [plots.interactive_curves(series["flows"], "distance to the last step",
                                                                 "||dL/dh_t||", first_x=0, log_y=True)]
    return figures


def figures(study, frame, baselines, out):
    """Writes val_curves.png (no clipping and clipping in separate panels, the baselines that have
    a validation loss as horizontal lines), gradients.png and gradient_flow.png to `out`; returns
    their names."""
    groups = {f"{cell} {CLIPPING[clipping].label}": runs
              for (cell, clipping), runs in frame.groupby(["cell", "clipping"], sort=False)}
    series = variant_series(groups)
    panels = {CLIPPING[mode].label: {label.rsplit(" ", 1)[0]: curve for label, curve in series["curves"].items()
                                     if label.endswith(" " + CLIPPING[mode].label)} for mode in study.clippings}
    lines = {f"{row['tags.baseline']} (baseline)": row["metrics.val_loss"] for _, row in baselines.iterrows()
             if row.get("metrics.val_loss", np.nan) == row.get("metrics.val_loss", np.nan)}
    written = variant_figures(series, study.description, panels, lines)
    for name, figure in written.items():
        figure.savefig(out / name, dpi=72)
    return list(written)


def search_markdown(study, every, lead="Recipe search", mark="the choice (*) has the lowest mean validation loss "
                                                          "at the largest budget it reached"):
    """The recipe search's paragraph and table (search_table) from `every` (records_frame), or []
    where no search ran on these records; `mark`: what the * beside the study's recipe means."""
    labelled = [({"cell": cell, "optimizer": config.optimizer, "rate": config.learning_rate, "rung": rung}, config)
                for cell in study.cells for rung, budget in enumerate(budgets(study))
                for config in search_configs(study, cell, budget=budget)]
    searched = runs_of(every, labelled) if len(every) else pd.DataFrame()
    if searched.empty or not searched["role"].eq("search").any():
        return []  # none, or only the grid's own full-size runs: no search has run on these records
    seeds = ", ".join(map(str, study.search_seeds))
    budget = ", ".join(f"{key}={value}" for key, value in study.search.items())
    return [f"{lead} (`python experiments/study.py {study.name} --stage search`): clipping on, "
            f"seeds {seeds}, successive halving from budget {budget} up to the full size (a third of the "
            f"recipes, at least 2, go on to each next budget; the best 2 to the full size); {mark}.", "",
            search_table(study, searched).to_markdown(index=False), ""]


def study_markdown(study, records, out, link_root):
    """The study's Markdown section from its records (zoo.records), writing its figures and
    runs.md to `out`; None without any run."""
    every = records_frame(records)
    search = search_markdown(study, every)
    ran, total = grid_runs(study, every)
    baselines = compare.newest_baselines(every)
    if not search and ran.empty and baselines.empty:
        return None
    lines = [f"# {study.description}", ""]
    pretraining = pretraining_table(study, every) if study.pretrain is not None else pd.DataFrame()
    if not pretraining.empty:
        lines += [f"Pretraining (`python experiments/study.py {study.name}`, its first step): language models on "
                  "unlabelled text (never a test text); the pretrained arms start from their embedding and "
                  "sequence layers (zoo.transfer). Their cost comes before every pretrained run's own.", "",
                  pretraining.to_markdown(index=False), ""]
    lines += search
    if not ran.empty:
        table, note = grid_table(study, ran)
        hours = (ran["end_time"] - ran["start_time"]).dt.total_seconds().sum() / 3600
        training = _column(ran, "metrics.train_seconds").sum() / 3600
        lines += [f"Grid (`python experiments/study.py {study.name}`): {len(ran)} of {total} runs; their runs "
                  f"took {hours:.1f} h from start to end (a run stopped and resumed counts its pause), "
                  f"{training:.1f} h of it training; mean ± std over the finished seeds, test split; every run "
                  "tests the weights of its kept epoch (the lowest validation loss).", "",
                  table.to_markdown(index=False), ""]
        if note:
            lines += [note, ""]
    lines += baselines_markdown(study, baselines)
    if not ran.empty:
        lines += intervals_markdown(study, ran, baselines)
        out.mkdir(parents=True, exist_ok=True)
        (out / "runs.md").write_text(f"# {study.description}: every grid run\n\nEach is one configuration of "
                                     f"`python experiments/study.py {study.name}`; written by `python -m zoo "
                                     f"report --study {study.name}`.\n\n"
                                     + runs_table(study, ran).to_markdown(index=False) + "\n")
        lines += [f"Every run, with its MLflow run id, times and outcome: [runs.md]({link_root}/{study.name}/runs.md); "
                  f"the records this section is made from: [records.jsonl]({link_root}/{study.name}/records.jsonl) "
                  "(`python -m zoo records import docs/results` loads them into a store)", ""]
        lines += [f"![{name}]({link_root}/{study.name}/{name})" for name in figures(study, ran, baselines, out)] + [""]
    return "\n".join(lines)


# runs.md files of an earlier store beside the study's own (a seed run on another machine)
LEGACY_RUNS = {"imdb": ("imdb-tcn-seed2/imdb/runs.md",)}
LEGACY_MARK = "runs.md"  # a headline row from an earlier store's runs.md
ADDENDUM = "<!-- second look: python -m zoo report adds what follows to the earlier store's section -->"


def legacy_grid(study, out_dir, recorded=()):
    """The grid runs of an earlier store from its committed runs.md files: cell, clipping, seed,
    diverged and the test metric (what stays of a store that is gone: no histories). A run whose
    id is among `recorded` (the study's records) is not an earlier store's: left out."""
    metric = tasks.get(study.base.task).metric
    rows = []
    for path in [out_dir / study.name / "runs.md", *(out_dir / extra for extra in LEGACY_RUNS.get(study.name, ()))]:
        if not path.exists():
            continue
        lines = [line for line in path.read_text().splitlines() if line.startswith("|")]
        header = [cell.strip() for cell in lines[0].strip("|").split("|")] if lines else []
        for line in lines[2:]:
            row = dict(zip(header, (cell.strip() for cell in line.strip("|").split("|"))))
            if row.get("MLflow run") in recorded:
                continue
            outcome = row.get(f"test {metric}", "")
            diverged = outcome.startswith("diverged")
            rows.append({"cell": row["cell"], "clipping": row["clipping"], "seed": int(row["seed"]),
                         "diverged": diverged, f"metrics.test_{metric}": np.nan if diverged else float(outcome)})
    return pd.DataFrame(rows)


def intervals_markdown(study, ran, baselines, source=""):
    """The paired-differences paragraph and table, or [] where there is no claim to test."""
    intervals = intervals_table(study, ran, baselines)
    if intervals.empty:
        return []
    metric = tasks.get(study.base.task).metric
    unit = "percentage points" if metric == "accuracy" else "test " + metric
    return [f"Paired differences of the test metric ({unit}), a − b over the seeds both finished{source}, with "
            "Student's t 95% interval (n − 1 degrees of freedom); against a baseline, a one-sample interval of "
            "the cell's seeds against the baseline's one fit (the baseline's own test-set noise is not in it; "
            "the best cell and the strongest baseline are picked on this test metric). \"differs\" only where "
            "the interval excludes 0; each interval is one 95% test, none is corrected for the others, so with "
            "this many a few \"differs\" are expected by chance.", "",
            intervals.to_markdown(index=False), ""]


def addendum(study, every, baselines, legacy):
    """For a study whose grid is only in an earlier store's section: its strong baselines (from
    its records, `every` as records_frame gives them), the paired differences of the earlier grid
    (`legacy`: legacy_grid) and a new search in its records."""
    lines = [ADDENDUM, "", *baselines_markdown(study, baselines)]
    lines += intervals_markdown(study, legacy, baselines, " (the test metrics of runs.md: the earlier store's "
                                                         "grid above)")
    lines += search_markdown(study, every, lead="A new recipe search, in the study's records (its choices go "
                                               "into the grid that replaces the one above)",
                             mark="* marks the recipe of the grid above, the earlier search's choice, until this "
                                  "search's choices replace it")
    return "\n".join(lines) if len(lines) > 2 else ""


def baselines_markdown(study, baselines):
    """The strong baselines' paragraph and table, or [] without any."""
    if baselines.empty:
        return []
    return ["Strong baselines (`python -m zoo baselines`), fitted on the same training data and chosen on the "
            "same validation data:", "", baselines_table(study, baselines).to_markdown(index=False), ""]


def grid_runs(study, every):
    """(the study's grid runs among `every` (runs as records_frame gives them) labelled with cell,
    clipping and seed, the number of runs in its grid)."""
    cells = [cell for cell in study.cells if cell in study.recipes]
    grid = grid_configs(study, cells) if cells else []
    labelled = [({"cell": cell_of(study, config), "clipping": config.clipping, "seed": config.seed}, config)
                for config in grid]
    return (runs_of(every, labelled) if len(every) else pd.DataFrame()), len(grid)


def grid_so_far(study, ran, total, baselines):
    """The Markdown of a new grid under way beside an earlier store's page: its table and paired
    differences over the runs finished so far (ran: grid_runs)."""
    table, note = grid_table(study, ran)
    lines = ["", f"A new grid is under way: {len(ran)} of {total} runs in [records.jsonl](records.jsonl); `python "
             f"experiments/study.py {study.name}` continues it (after `python -m zoo records import docs/results` "
             "on a new machine), and its tables replace the ones above once all its runs are in. Its runs so far "
             "(each tests the weights of its kept epoch, the lowest validation loss; mean ± std over the finished "
             "seeds, test split):", "", table.to_markdown(index=False), ""]
    if note:
        lines += [note, ""]
    return "\n".join(lines + intervals_markdown(study, ran, baselines, " in the new grid so far"))


def records_frame(rows):
    """The records as runs (zoo.records.frame), their histories made what _history reads."""
    _RECORDED.clear()
    _RECORDED.update(records.histories(rows))
    return records.frame(rows) if rows else pd.DataFrame(columns=["run_id", "status", "role", "start_time"])


PAGE_NAME = "README.md"  # a study's page in its folder (GitHub shows it with the folder)


def current_page(out_dir, study):
    """The study's page under `out_dir` as it is now, or None."""
    path = Path(out_dir) / study.name / PAGE_NAME
    return path.read_text() if path.exists() else None


def headline(study, grid, baselines, source=""):
    """The study's row of the README's table: its best cell (highest mean test metric of the
    finished seeds, or lowest perplexity) with mean ± std, its strongest baseline, and their
    difference with its t interval (intervals_table); None without a grid. source: where the grid's
    runs come from when not the records (LEGACY_MARK), named beside the seeds."""
    if grid.empty:
        return None
    task = tasks.get(study.base.task)
    metric, percent = task.metric, task.metric == "accuracy"
    column = f"metrics.test_{metric}"
    finished = grid[~grid["diverged"]] if column in grid else grid.iloc[:0]
    if finished.empty or finished[column].isna().all():
        return None
    means = finished.groupby(["cell", "clipping"])[column].mean()
    best = means.idxmin() if task.lower_is_better else means.idxmax()
    runs = finished[(finished["cell"] == best[0]) & (finished["clipping"] == best[1])]
    row = {"study": f"[{study.name}]({study.name}/{PAGE_NAME})",
           "test metric": f"{metric}" + (" %" if percent else ""),
           "best cell": f"{best[0]} ({CLIPPING[best[1]].label})",
           "its test metric": f"{_score(runs[column], percent)} ({len(runs)} seeds{', ' + source if source else ''})",
           "strongest baseline": "-", "best − baseline, 95% interval": "-"}
    if not baselines.empty and column in baselines:
        strongest = baselines.sort_values(column, ascending=task.lower_is_better).iloc[0]
        row["strongest baseline"] = f"{strongest['tags.baseline']}: {_score(pd.Series([strongest[column]]), percent)}"
        intervals = intervals_table(study, grid, baselines)
        found = intervals[intervals["claim (a − b)"].str.startswith("best cell")] if not intervals.empty else intervals
        if not found.empty:
            claim = found.iloc[0]
            row["best − baseline, 95% interval"] = (f"{claim['mean a − b']} {claim['95% interval']}: "
                                                    f"{claim['verdict']}")
    return row


def replace_block(readme, block):
    """`readme` (Path) with the text between MARKERS replaced by `block`."""
    text = readme.read_text()
    start, end = MARKERS
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no {start} ... {end} block to replace")
    readme.write_text(pattern.sub(lambda _: f"{start}\n{block}\n{end}", text))


@_reading_once
def report(studies, out_dir="docs/results", readme="README.md", store=True):
    """Writes the records, figures, runs.md and page (docs/results/<study>/README.md) of `studies`
    under out_dir and, if readme, the README's block: the headline table of every study of
    zoo.presets.STUDIES (and `studies`) from its committed records; returns the Markdown of `studies`. store: first
    bring each study's records up to date from the store (zoo.records.export: the store's runs
    added to the committed ones); False renders from the committed records alone, which gives the
    same bytes on any machine. A study without records keeps its page."""
    out_dir = Path(out_dir)
    empty = "No study has runs in this store yet."
    asked, heads = {}, {}
    try:
        for study in studies:
            rows = records.export(study, out_dir) if store else records.committed(study, out_dir)
            page, heads[study.name] = _page(study, rows, out_dir, current_page(out_dir, study))
            asked[study.name] = page
            if page:
                (out_dir / study.name / PAGE_NAME).write_text(page)
        # the other studies' rows from their committed records; the asked ones' from the pass above
        every = {**STUDIES, **{study.name: study for study in studies}} if readme else {}
        heads = [heads[name] if name in heads else
                 _page(study, records.committed(study, out_dir), out_dir, None, write=False)[1]
                 for name, study in every.items()]
        heads = [head for head in heads if head]
        if heads:  # records of no study under out_dir: the README keeps its table
            replace_block(Path(readme), _headline_block(out_dir, readme, heads))
    finally:
        _RECORDED.clear()
    missing = [name for name, section in asked.items() if not section]
    where = tracking.tracking_uri() + " or " if store else ""
    kept = f"No run of {', '.join(missing)} in {where}{out_dir}/<study>/records.jsonl: " + (
        "its page keeps what it had." if len(missing) == 1 else "their pages keep what they had.") if missing else ""
    return "\n".join([section for section in asked.values() if section] + [kept]).strip() or empty


def _page(study, rows, out_dir, before, write=True):
    """(the study's page from its records `rows`, its headline row): a grid that is only in an
    earlier store's page (and runs.md) keeps that page (`before`), with the baselines, intervals and a
    new search added; a part of a new grid never overwrites it. write=False: the headline alone."""
    if not rows:
        return before, None
    if study.pretrain is not None:  # its pretrained arms, with the ids of the runs they started from
        study = resolved(study, sources_of(study, records.frame(rows)))
    every = records_frame(rows)
    ran, total = grid_runs(study, every)
    legacy = legacy_grid(study, out_dir, {row["run_id"] for row in rows}) if len(ran) < total else pd.DataFrame()
    baselines = compare.newest_baselines(every)
    if not legacy.empty:
        head = headline(study, legacy, baselines, source=LEGACY_MARK)  # runs.md's rounded test metrics
        if not write:
            return None, head
        extra = addendum(study, every, baselines, legacy)
        if not ran.empty:  # after the marker, so that the next report replaces it
            extra = (extra or ADDENDUM + "\n") + grid_so_far(study, ran, total, baselines)
        return (None if not before else before.split(ADDENDUM)[0].rstrip("\n") + "\n\n" + extra if extra
                else before), head
    head = headline(study, ran, baselines)
    return (study_markdown(study, rows, out_dir / study.name, "..") if write else None), head


def _headline_block(out_dir, readme, rows):
    """The README's block: the headline table (rows: headline), its links relative to the README's folder."""
    root = Path(os.path.relpath(Path(out_dir).resolve(), Path(readme).resolve().parent)).as_posix()
    table = pd.DataFrame(rows)
    table["study"] = table["study"].str.replace("](", f"]({root}/", regex=False)
    return "\n".join([
        "Each study's best cell (of the grid, by mean test metric over its finished seeds) against the "
        "strongest baseline fitted on the same data; the difference is paired with Student's t 95% interval "
        "over the seeds (\"differs\" only where it excludes 0). Written by `python -m zoo report` from the "
        f"committed records ({root}/<study>/records.jsonl); each study's page has its search, grid, baselines, "
        "intervals and figures." + (
            f" A row marked {LEGACY_MARK} is a grid of an earlier store, whose runs are in the study's runs.md with "
            "their test metric rounded as there: its mean and interval can differ in the last digit from its page's "
            "grid table." if table["its test metric"].str.contains(f", {LEGACY_MARK})", regex=False).any() else ""),
        "", table.to_markdown(index=False)])


def _embedded(figure):
    """A matplotlib figure as an <img> whose PNG is inside the page (a data: URI)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;font-size:13px;margin:1em 0}}th,td{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
th{{background:#f3f3f3}}img{{max-width:100%;display:block;margin:1em 0}}details{{margin:.5em 0}}</style>
{script}</head>
<body>{body}</body></html>
"""


def sweep_parent(experiment, parent_run_id=None):
    """The sweep's parent run (a row of zoo.tracking.runs): `parent_run_id`, or the newest sweep
    of `experiment`."""
    frame = tracking.runs(experiment)
    parents = frame[frame["tags.sweep_grid"].notna()] if "tags.sweep_grid" in frame else frame.iloc[:0]
    if parent_run_id is not None:
        parents = parents[parents["run_id"] == parent_run_id]
    if parents.empty:
        which = f"sweep parent run {parent_run_id}" if parent_run_id else "sweep"
        raise UserError(f"Experiment {experiment!r} has no {which} in {tracking.tracking_uri()}; run one with "
                        "python -m zoo sweep (python -m zoo compare lists the experiments).")
    return parents.sort_values("start_time").iloc[-1]


@_reading_once
def experiment_report(experiment, parent_run_id=None, out_dir="reports", interactive=True):
    """One self-contained HTML file of a sweep (default: the newest of `experiment`): the
    comparison (mean ± std over seeds, diverged runs, the count baseline), validation curves,
    gradient norm and clipped fraction, the gradient flow, each run's gradient-flow heatmap, and
    every variant's configuration. Written to out_dir/<experiment>-<parent>.html and logged to
    the parent run; returns the path. interactive: the curves also as Plotly plots (hover names
    the variant and value), plotly.js inside the page (4.8 MB; without: about 0.4 MB)."""
    parent = sweep_parent(experiment, parent_run_id)
    children = compare.comparable(tracking.runs(experiment, parent["run_id"]))
    if children.empty:
        raise UserError(f"Sweep {parent['run_id']} has no finished or diverged runs yet.")
    children, differing = compare.labelled(children)
    task = tasks.TASKS.get(experiment)
    summary = compare.summarize(children, task.metric if task else "loss")
    title = f"{experiment}: sweep {parent['tags.mlflow.runName']} ({parent['run_id']})"
    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p>{len(children)} runs from {html.escape(tracking.described_store())}, "
            f"{parent['start_time']:%Y-%m-%d %H:%M} UTC. Mean and standard deviation over seeds; "
            "diverged runs counted, not averaged in.</p>",
            "<h2>Comparison</h2>", summary.to_html(index=False, float_format="%.4g", na_rep="-")]
    verdict = compare.against_baseline(summary, task)
    body += [f"<p>{html.escape(verdict)}</p>"] if verdict else []
    groups = {variant: runs for variant, runs in children.groupby("variant", sort=False)}
    series = variant_series(groups)
    figures = variant_figures(series, title)
    live = interactive_figures(series) if interactive else {}
    captions = {"val_curves.png": "Validation loss per epoch", "gradients.png": "Gradient norm (before clipping) "
                "and the share of steps clipped", "gradient_flow.png": "Gradient flow after training: "
                "||dL/dh_t|| by distance to the last step"}
    for name, figure in figures.items():
        body.append(f"<h2>{captions[name]}</h2>")
        if name in live:  # hover a point: its variant and value; the PNG stays below, folded
            body += [plot.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False},
                                  div_id=name.split(".")[0] + (f"_{i}" if i else "")) for i, plot in enumerate(live[name])]
            body.append(f"<details><summary>the same as a picture</summary>{_embedded(figure)}</details>")
        else:
            body.append(_embedded(figure))
    body.append("<h2>Each variant</h2>")
    for variant, runs in groups.items():
        first = runs.sort_values("params.seed").iloc[0]
        snapshots = sorted({(c.rsplit("epoch", 1)[1], c.split("/")[1]) for c in first.index
                            if c.startswith("metrics.grad_flow/") and first[c] == first[c]})  # (epoch, layer)
        config = {name: first.get(f"params.{name}") for name in FIELDS if f"params.{name}" in first}
        body += [f"<h3>{html.escape(variant)}</h3>",
                 f"<p>runs: {', '.join(runs['run_id'])}; seeds: {', '.join(map(str, runs['params.seed']))}</p>"]
        if snapshots:
            series = {}
            for epoch, layer in snapshots:
                series.setdefault(int(epoch), {})[layer] = np.array(_history(
                    first["run_id"], f"grad_flow/{layer}/epoch{epoch}"))[::-1]
            body.append(_embedded(plots.gradient_flow_heatmap(sorted(series.items()), f"{variant}, seed "
                                                              f"{first['params.seed']}")))
        table = pd.DataFrame([config]).T.rename(columns={0: "value"})
        body.append(f"<details><summary>configuration{' (differs in ' + ', '.join(differing) + ')' if differing else ''}"
                    f"</summary>{table.to_html()}</details>")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{experiment}-{parent['run_id'][:8]}.html"
    script = ""
    if interactive:
        import plotly.offline

        script = f"<script>{plotly.offline.get_plotlyjs()}</script>"
    path.write_text(PAGE.format(title=html.escape(title), script=script, body="\n".join(body)))
    tracking.log_artifacts(parent["run_id"], [path])
    return path.resolve()
