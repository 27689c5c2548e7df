"""A study's grid runs from its committed records (docs/results/<study>/records.jsonl): each run's
wall time (start to end), training time and the rest, and their sums, without a store. For a grid
that is still under way, the time its finished runs took so far. A run stopped and resumed later
(its time outside training over STOPPED seconds) has the stop in its wall time: the sums are also
given without those runs' time outside training (a lower bound).

    python benchmarks/grid_time.py imdb
"""

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

STOPPED = 600  # seconds outside training beyond which a run was stopped and resumed (evaluation takes at most ~200)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study")
    parser.add_argument("--results", type=Path, default=Path("docs/results"))
    args = parser.parse_args(argv)
    path = args.results / args.study / "records.jsonl"
    if not path.is_file():
        print(f"error: no records at {path}; valid studies: "
              f"{', '.join(sorted(p.parent.name for p in args.results.glob('*/records.jsonl')))}", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    runs = pd.DataFrame([{"run": row["name"], "seed": row["params"].get("seed"), "status": row["status"],
                          "start (UTC)": pd.to_datetime(row["start_time"], unit="ms").strftime("%Y-%m-%d %H:%M"),
                          "wall s": (row["end_time"] - row["start_time"]) / 1000,
                          "train s": row["metrics"].get("train_seconds")}
                         for row in rows if row.get("role") == "grid"])
    if runs.empty:
        print(f"{path} has no grid runs")
        return 0
    runs["outside training s"] = runs["wall s"] - runs["train s"]
    runs = runs.sort_values("start (UTC)")
    print(runs.round(1).to_markdown(index=False))
    print(f"\n{len(runs)} grid runs: {runs['wall s'].sum() / 3600:.2f} h of run time, "
          f"{runs['train s'].sum() / 3600:.2f} h of it training")
    stopped = runs[runs["outside training s"] > STOPPED]
    if not stopped.empty:
        print(f"stopped and resumed (over {STOPPED} s outside training): "
              f"{', '.join(f'{run.run} seed {run.seed}' for run in stopped.itertuples())}; without their time "
              f"outside training: {(runs['wall s'].sum() - stopped['outside training s'].sum()) / 3600:.2f} h of run time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
