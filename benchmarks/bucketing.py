"""Length bucketing on one study cell: the cell at its study recipe with `bucketing=true`, one run
per seed, against the study's own grid runs of the same configuration without it (the committed
records, docs/results/<study>/records.jsonl): test metric, training seconds and recurrent steps
per epoch (batch size x width, summed over the batches) per seed, and the paired difference with
Student's t 95% interval ("differs" only where it excludes 0). The recorded runs padded every
batch to sequence_length (the code before 2026-12-06); batches are now padded to their longest
example ("each batch to its longest": bucketing=false, the same results up to rounding: the
padding is masked), and bucketing draws each batch from one length bucket.

    python benchmarks/bucketing.py                                  # sst2, lstm, clipping on, seeds 0-2
    python benchmarks/bucketing.py --study imdb --cell gru --one-epoch   # one epoch each way, timed

The runs go to their own store (--store, default benchmarks/results/bucketing/mlflow.db), so the
study's store is not touched; a run already there is not run again. The recorded runs ran
on this machine too, alone or beside other jobs, so seconds compare loosely; steps exactly.
Writes benchmarks/results/bucketing-<study>.md.
"""

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def padded_steps(config):
    """(recurrent steps of one training epoch: the sum over batches of batch size x its width,
    the training examples)."""
    from zoo import datasets

    shapes = [np.shape(x[0] if isinstance(x, tuple) else x) for x, _ in datasets.load(config).train]
    return sum(int(np.prod(shape)) for shape in shapes), sum(shape[0] for shape in shapes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", default="sst2")
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--clipping", default="global_norm")
    parser.add_argument("--one-epoch", action="store_true",
                        help="instead: one epoch of seed 0 with and without bucketing, timed side by side "
                             "(for a study without recorded grid runs)")
    parser.add_argument("--store", default=str(ROOT / "benchmarks" / "results" / "bucketing" / "mlflow.db"))
    args = parser.parse_args(argv)
    Path(args.store).parent.mkdir(parents=True, exist_ok=True)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(args.store).resolve()}"
    sys.path.insert(0, str(ROOT))
    from zoo import compare, records, tasks, tracking, train
    from zoo.presets import STUDIES
    from zoo.report import t_interval
    from zoo.study import grid_configs

    study = STUDIES[args.study]
    configs = [c for c in grid_configs(study, [args.cell]) if c.clipping == args.clipping]
    metric = tasks.get(study.base.task).metric
    scale = 100 if metric == "accuracy" else 1
    recorded = {}
    for record in records.read(ROOT / "docs" / "results" / study.name / "records.jsonl"):
        if record["role"] == "grid":
            recorded[(record["params"].get("cell"), record["params"].get("activation"),
                      record["params"].get("clipping"), record["params"].get("seed"))] = record
    if args.one_epoch:
        return one_epoch(args, configs[0], train, tracking)
    rows, differences = [], []
    for config in configs:
        (padded, examples), (bucketed_steps, _) = padded_steps(config), padded_steps(
            dataclasses.replace(config, bucketing=True))
        before = recorded[(config.cell, config.activation, config.clipping, str(config.seed))]
        bucketed = dataclasses.replace(config, bucketing=True)
        done = compare.matching(compare.comparable(tracking.runs(config.task)), [dataclasses.asdict(bucketed)])
        run = done[0] if done else None
        if run is None:
            result = train.run(bucketed)
            run = tracking.runs(config.task).set_index("run_id").loc[result.run_id]
        after_metric, before_metric = run[f"metrics.test_{metric}"], before["metrics"][f"test_{metric}"]
        differences.append((after_metric - before_metric) * scale)
        rows.append({"seed": config.seed, f"test {metric} without": f"{before_metric * scale:.2f}",
                     f"test {metric} with": f"{after_metric * scale:.2f}",
                     "train s without": f"{before['metrics']['train_seconds']:.0f}",
                     "train s with": f"{run['metrics.train_seconds']:.0f}",
                     "epochs without": f"{before['metrics'].get('epochs_run', float('nan')):.0f}",
                     "epochs with": f"{run.get('metrics.epochs_run', float('nan')):.0f}",
                     "steps per epoch: recorded": f"{examples * config.sequence_length:,}",
                     "each batch to its longest": f"{padded:,}", "bucketed": f"{bucketed_steps:,}"})
    mean, low, high = t_interval(differences)
    verdict = "-" if low != low else "differs" if low > 0 or high < 0 else "no difference shown"
    table = pd.DataFrame(rows).to_markdown(index=False)
    summary = (f"{study.name}, {args.cell}, clipping {args.clipping}: with − without bucketing, test {metric} "
               f"{mean:+.3g} [{low:.3g}, {high:.3g}] over {len(differences)} seeds: {verdict}")
    print(f"{table}\n\n{summary}")
    out = ROOT / "benchmarks" / "results" / f"bucketing-{study.name}.md"
    out.write_text(f"python benchmarks/bucketing.py --study {args.study} --cell {args.cell} --clipping "
                   f"{args.clipping}\n\n{table}\n\n{summary}\n")


def one_epoch(args, config, train, tracking):
    """One epoch of `config` (seed 0) with bucketing off, then on: training seconds and steps."""
    rows = []
    for bucketing in (False, True):
        timed = dataclasses.replace(config, seed=0, epochs=1, patience=0, bucketing=bucketing)
        result = train.run(timed)
        rows.append({"bucketing": bucketing, "train s (1 epoch)": f"{result.metrics['train_seconds']:.0f}",
                     "recurrent steps": f"{padded_steps(timed)[0]:,}"})
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table)
    out = ROOT / "benchmarks" / "results" / f"bucketing-{args.study}-one-epoch.md"
    out.write_text(f"python benchmarks/bucketing.py --study {args.study} --cell {args.cell} --clipping "
                   f"{args.clipping} --one-epoch\n\n{table}\n")


if __name__ == "__main__":
    main()
