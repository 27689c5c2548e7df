"""The count baselines of the real-data tasks (zoo.tasks: TaskSpec.count_baseline), for each preset:
a model that only counts, fitted on the preset's training data and scored on its test data. A
recurrent network that does not beat these has learned nothing a table of counts would not know.

    python benchmarks/count_baselines.py                       # every preset of sentiment, pos, lm
    python benchmarks/count_baselines.py --presets quick --set dataset=sst2
"""

import argparse
import dataclasses
import sys

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

import pandas as pd  # noqa: E402

from zoo import presets, tasks  # noqa: E402
from zoo.config import apply_overrides  # noqa: E402
from zoo.datasets import load  # noqa: E402
from zoo.errors import command  # noqa: E402

EXPERIMENTS = {"sentiment": presets.SENTIMENT, "pos": presets.POS_TAGGING, "lm": presets.LANGUAGE_MODEL}


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", default=",".join(EXPERIMENTS))
    parser.add_argument("--presets", default="", help="comma-separated preset names (default: all)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = parser.parse_args(argv)
    rows = []
    for name in args.experiments.split(","):
        for preset, config in EXPERIMENTS[name].items():
            if args.presets and preset not in args.presets.split(","):
                continue
            config = apply_overrides(dataclasses.replace(config), args.set)
            task = tasks.get(config.task)
            value = task.count_baseline(load(config))
            rows.append({"experiment": name, "preset": preset, "dataset": config.dataset, "limit": config.limit,
                         "baseline": task.count_baseline_name, "test metric": f"{task.metric} {value:.4g}"})
    print(pd.DataFrame(rows).to_markdown(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
