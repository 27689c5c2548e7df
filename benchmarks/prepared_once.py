"""What each run of a sweep spends preparing its data, before and after sharing the preparation.

A run prepares its data (read, tokenize, build the tf.data pipelines) and its count baseline
before it trains. The children of a sweep in one process, and a Ray worker's trials, now share
the tokenized data and the count baseline (zoo.data.pipelines.prepared); the pipelines are built
per run. This times that step, as zoo.train.run does it (zoo.datasets.load, then the task's count
baseline), for the first 10 configurations of a study's grid (cells x clipping x seeds, in the
order a sweep runs them), once with nothing kept between runs (before) and once as a sweep now
does (after). Training is left out: it is the same either way.

    python benchmarks/prepared_once.py                       # sst2, imdb, ewt, ptb
    python benchmarks/prepared_once.py --studies imdb

Writes benchmarks/results/prepared_once.md.
"""

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
RUNS = 10


def preparation_seconds(configs):
    """[seconds per configuration of datasets.load and the count baseline, in order]."""
    from zoo import datasets, train

    seconds = []
    for config in configs:
        start = time.perf_counter()
        data = datasets.load(config)
        train.count_baseline(config, data)  # None where the task has none
        seconds.append(time.perf_counter() - start)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", default="sst2,imdb,ewt,ptb")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import zoo.program  # noqa: F401
    from zoo.data import pipelines
    from zoo.presets import STUDIES
    from zoo.study import grid_configs

    rows = []
    for name in tqdm(args.studies.split(","), desc="studies", unit="study"):
        configs = grid_configs(STUDIES[name])[:RUNS]
        kept = pipelines.KEPT
        pipelines.KEPT = 0  # before: nothing kept from one run to the next
        before = preparation_seconds(configs)
        pipelines.KEPT = kept
        pipelines._PREPARED.clear()
        after = preparation_seconds(configs)
        rows.append({"study": name, "runs": len(configs), "before: s per run": round(sum(before) / len(before), 2),
                     "after: first run s": round(after[0], 2),
                     "after: later runs, s each": round(sum(after[1:]) / max(len(after) - 1, 1), 2),
                     "before: all runs s": round(sum(before), 1), "after: all runs s": round(sum(after), 1)})
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(f"\n{table}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "prepared_once.md").write_text(f"python benchmarks/prepared_once.py --studies {args.studies}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
