"""A study's runs as compact records, committed beside its tables: results that outlive a store.

    records.export(study)                        # the store's runs of the study -> docs/results/<study>/records.jsonl
    records.committed(study)                     # the records committed there
    records.read(path)                           # [record], one per run
    records.frame(rows)                          # a DataFrame shaped like zoo.tracking.runs
    records.load_into_store("docs/results")      # every records.jsonl below, as runs of this store

A record is one run (one JSON line): run_id, experiment, name, role (grid, search, baseline or pretrain),
status, start_time and end_time (ms since 1970, UTC), params, tags, final metrics, and histories
{key: [[steps], [values]]}: every per-epoch metric, the gradient norm cut to at most
GRAD_NORM_POINTS points (each the largest of its stretch of steps, so peaks stay) and the gradient
flow of the last snapshot only; not MLflow's system metrics (system/*: the machine's CPU, memory,
disk and network every few seconds, not a result). Only the tags of KEPT_TAGS are kept: none that
names a machine, a process, a user, a path or a server. `python -m zoo report` renders a study's section from these records alone.
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.errors import UserError

FORMAT = 1
GRAD_NORM_POINTS = 100
SIGNIFICANT = 6  # digits kept of each value
# the tags a record keeps (an allow-list: a tag added later, or one naming a machine, a process, a
# user, a path or a server, stays out until it is named here)
KEPT_TAGS = ("variant", "nan_step", "nan_cause", "data_sha256", "git_commit", "baseline", "baseline_description",
             "baseline_selection", "study", "mlflow.runName", "early_stopped")
KEPT_TAG_PREFIXES = ("version.", "vocabulary.")
SYSTEM = "system/"  # MLflow's system metrics: never in a record
REQUIRED = ("run_id", "experiment", "name", "role", "status", "start_time", "end_time", "params", "tags", "metrics",
            "histories")


def _rounded(value):
    value = float(value)
    return value if not math.isfinite(value) or value == 0 else float(f"{value:.{SIGNIFICANT}g}")


def _reduced(key, steps, values):
    """A history as kept: grad_norm as the largest value of each of GRAD_NORM_POINTS - 1 stretches
    (inf where one is, NaN only where all are), then its last value, so that peaks and the final
    value stay."""
    if key != "grad_norm" or len(values) <= GRAD_NORM_POINTS:
        return list(steps), [_rounded(v) for v in values]
    kept_steps, kept = [], []
    for part in np.array_split(np.arange(len(values) - 1), GRAD_NORM_POINTS - 1):
        chunk = np.asarray(values, float)[part]
        top = part[int(np.argmax(np.where(np.isnan(chunk), -np.inf, chunk)))] if (~np.isnan(chunk)).any() else part[-1]
        kept_steps.append(int(steps[top]))
        kept.append(_rounded(values[top]))
    return kept_steps + [int(steps[-1])], kept + [_rounded(values[-1])]


def _last_flows(keys):
    """The grad_flow/<layer>/epoch<e> keys of the last snapshot of each layer."""
    last = {}
    for key in keys:
        if key.startswith("grad_flow/"):
            layer, epoch = key.rsplit("/epoch", 1)
            if int(epoch) >= last.get(layer, (-1, None))[0]:
                last[layer] = (int(epoch), key)
    return [key for _, key in last.values()]


def from_row(row, experiment, role):
    """The record of one run (a row of zoo.tracking.runs), its histories read from the store."""
    from zoo import tracking

    metrics = {c[len("metrics."):]: row[c] for c in row.index if c.startswith("metrics.") and row[c] == row[c]
               and not c[len("metrics."):].startswith(SYSTEM)}
    params = {c[len("params."):]: row[c] for c in row.index if c.startswith("params.") and isinstance(row[c], str)}
    tags = {c[len("tags."):]: row[c] for c in row.index if c.startswith("tags.") and isinstance(row[c], str)
            and (c[len("tags."):] in KEPT_TAGS or c[len("tags."):].startswith(KEPT_TAG_PREFIXES))}
    keys = [key for key in metrics if not key.startswith("grad_flow/")] + _last_flows(metrics)
    # a history: a metric logged per epoch (steps from 1), per step or per distance (grad_flow);
    # one logged once at the end has step 0 and stays a final metric only
    histories = {key: _reduced(key, *found) for key, found in
                 tracking.metric_keys_and_steps(row["run_id"], keys).items()
                 if any(found[0]) or key.startswith("grad_flow/")}
    end = row["end_time"]
    original = row.get("tags.record_of")  # a run imported from a record keeps that record's id
    return {"run_id": original if isinstance(original, str) else row["run_id"], "experiment": experiment, "name": tags.get("mlflow.runName", ""),
            "role": role, "status": row["status"],
            "start_time": int(row["start_time"].timestamp() * 1000),
            "end_time": None if end != end or end is None else int(end.timestamp() * 1000),
            "params": dict(sorted(params.items())), "tags": dict(sorted(tags.items())),
            "metrics": {key: _rounded(value) for key, value in sorted(metrics.items())
                        if not key.startswith("grad_flow/")},
            "histories": dict(sorted(histories.items()))}


def in_store(study):
    """The records of `study`'s runs in the store: its grid, its search, its strong baselines
    (runs tagged `baseline` on the study's data: dataset, limit, split_seed) and, for a transfer
    study, its pretraining runs (role pretrain, in their own experiment)."""
    import dataclasses

    from zoo import compare, tracking
    from zoo.study import every_search_config, grid_configs, pretrain_configs, resolved, sources_of

    experiment = study.base.task
    frame = compare.comparable(tracking.runs(experiment))
    if frame.empty:
        return []
    roles = {}
    if study.pretrain is not None:  # a transfer study: its language models, and the arms that start from them
        models = compare.comparable(tracking.runs(study.pretrain.task))
        study = resolved(study, sources_of(study, models))
        for row in compare.matching(models, [dataclasses.asdict(c) for c in pretrain_configs(study)]).values():
            roles[row["run_id"]] = (row, "pretrain")
    searched = [dataclasses.asdict(c) for cell in study.cells for c in every_search_config(study, cell)]
    cells = [cell for cell in study.cells if cell in study.recipes]
    grid = [dataclasses.asdict(c) for c in grid_configs(study, cells)] if cells else []
    for role, configs in (("search", searched), ("grid", grid)):
        for row in compare.matching(frame, configs).values():
            roles[row["run_id"]] = (row, role)
    if "tags.baseline" in frame:
        from zoo import baselines

        for name in baselines.BASELINES.get(experiment, {}):
            same = frame["tags.baseline"].eq(name)  # fitted on the study's data: every identity param equal
            for key, value in baselines.identity(study.base, name).items():
                same &= compare.logged(frame, key).eq(value)  # a run from before a field: its default
            if same.any():
                row = frame[same].sort_values("start_time").iloc[-1]
                roles[row["run_id"]] = (row, "baseline")
    return [from_row(row, row.get("params.task", experiment) if role == "pretrain" else experiment, role)
            for row, role in roles.values()]


def path_of(study, out_dir="docs/results"):
    return Path(out_dir) / study.name / "records.jsonl"


def read(path):
    """The records of one records.jsonl file (a damaged line is one line naming the file)."""
    rows = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        missing = [key for key in REQUIRED if key not in record] if isinstance(record, dict) else ["JSON"]
        if missing or record.get("format") != FORMAT:
            found = f"it lacks {', '.join(missing)}" if missing else f"it is format {record.get('format')!r}"
            raise UserError(f"{path} line {number} is not a run record of format {FORMAT} ({found}); restore the "
                            "file from git (git checkout -- PATH) or write it again with python -m zoo report.")
        record.pop("format")
        rows.append(record)
    return rows


def write(records, path):
    """records.jsonl, one run a line in start order (the same records give the same bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = sorted(records, key=lambda r: (r["start_time"], r["run_id"]))
    text = "".join(json.dumps({"format": FORMAT, **record}, sort_keys=False, allow_nan=True) + "\n"
                   for record in ordered)
    partial = path.with_suffix(".partial")
    partial.write_text(text)
    partial.replace(path)  # whole or not at all
    return path


def merged(committed, fresh):
    """`committed` with each run of `fresh` added or replacing the record of the same run id."""
    by_id = {record["run_id"]: record for record in committed}
    by_id.update({record["run_id"]: record for record in fresh})
    return list(by_id.values())


def committed(study, out_dir="docs/results"):
    """The records in `study`'s records.jsonl, [] where it has none."""
    path = path_of(study, out_dir)
    return read(path) if path.exists() else []


def export(study, out_dir="docs/results"):
    """Writes the store's runs of `study` into its records.jsonl (keeping committed records of runs
    this store does not have); returns every record (the committed ones if the store has none)."""
    earlier, fresh = committed(study, out_dir), in_store(study)
    if not fresh:
        return earlier
    every = merged(earlier, fresh)
    write(every, path_of(study, out_dir))
    return every


def frame(records):
    """The records as a DataFrame shaped like zoo.tracking.runs (run_id, status, start_time and
    end_time as UTC timestamps, params.*, tags.*, metrics.*), plus role."""
    rows = []
    for record in records:
        row = {"run_id": record["run_id"], "status": record["status"], "role": record["role"],
               "experiment": record["experiment"],
               "start_time": pd.Timestamp(record["start_time"], unit="ms", tz="UTC"),
               "end_time": pd.Timestamp(record["end_time"], unit="ms", tz="UTC") if record["end_time"] else pd.NaT}
        row.update({f"params.{k}": v for k, v in record["params"].items()})
        row.update({f"tags.{k}": v for k, v in record["tags"].items()})
        row.update({f"metrics.{k}": v for k, v in record["metrics"].items()})
        row.update({f"metrics.{k}": values[-1] for k, (_, values) in record["histories"].items()
                    if k.startswith("grad_flow/") and values})  # which snapshots there are
        rows.append(row)
    return pd.DataFrame(rows)


def histories(records):
    """{run_id: {key: [values in step order]}} of the records."""
    return {record["run_id"]: {key: values for key, (_, values) in record["histories"].items()}
            for record in records}


def load_into_store(folder):
    """Every records.jsonl under `folder` as runs of the current store (each run once: a record
    already imported, by tag record_of, is skipped). Returns (imported, skipped)."""
    from zoo import tracking

    folder = Path(folder)
    paths = [folder] if folder.is_file() else sorted(folder.rglob("records.jsonl")) if folder.is_dir() else []
    if not paths:
        raise UserError(f"No records.jsonl under {folder}; the study's records are in docs/results/<study>/ "
                        "(python -m zoo report writes them).")
    every = [record for path in paths for record in read(path)]  # every file checked before anything is written
    imported = skipped = 0
    known = {}
    try:
        for record in every:
            experiment = record["experiment"]
            if experiment not in known:
                known[experiment] = tracking.recorded_run_ids(experiment)
            if record["run_id"] in known[experiment]:
                skipped += 1
                continue
            known[experiment][record["run_id"]] = tracking.import_record(record)
            imported += 1
    except tracking.STORE_ERRORS as error:
        raise tracking.StoreError(f"Cannot import records into {tracking.tracking_uri()} "
                                  f"({tracking.first_line(error)}); {imported} run(s) were imported before. Check "
                                  "that the store is writable and has space, then import again (each run once).") from None
    return imported, skipped
