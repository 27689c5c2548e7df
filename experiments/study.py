"""The study: each cell at its own recipe, then clipping none against global norm over seeds.

    python experiments/study.py sst2 --stage search     # per cell: optimizer x learning rate, clipping
                                                        # on, on the study's reduced budget
    python experiments/study.py sst2                    # the grid at the recipes in zoo/presets.py
    python experiments/study.py sst2 --cells lstm,gru   # part of the grid
    python experiments/study.py imdb --cells tcn --seeds 2   # one seed of one cell (another machine's part)
    python experiments/study.py sst2 --executor ray --address auto   # runs as Ray Tune trials on a
                                                        # cluster; the search stops bad trials (ASHA)
    python -m zoo report                                # every study's tables and figures, from the store

Stage `search` runs one sweep per cell (its parent records the configuration with the lowest
validation loss at any epoch: the full-size runs stop early and keep their best epoch) and
prints each choice; the chosen recipes are then written into STUDIES in
zoo/presets.py with the sweep they came from. Stage `grid` runs cells x {none, global_norm} x
seeds at full size as one sweep. Both resume: a configuration that already has a finished run in
the store is skipped, so a study stopped half way is finished by the same command.
"""

import argparse
import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from zoo.errors import UserError, command  # noqa: E402
from zoo.experiment import add_executor_arguments, executor_options, seed_list  # noqa: E402
from zoo.presets import STUDIES  # noqa: E402
from zoo.study import grid_configs, search_configs  # noqa: E402


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", choices=list(STUDIES))
    parser.add_argument("--stage", choices=("search", "grid"), default="grid")
    parser.add_argument("--cells", help="comma-separated cells of the study (default: all)")
    parser.add_argument("--seeds", help="comma-separated seeds of the grid (default: the study's)")
    add_executor_arguments(parser)
    args = parser.parse_args(argv)
    options = executor_options(args)
    study = STUDIES[args.study]
    if args.seeds:
        study = dataclasses.replace(study, seeds=seed_list(args.seeds))
    cells = args.cells.split(",") if args.cells else list(study.cells)
    for cell in cells:
        study.cell(cell)  # an unknown cell is one line before anything runs
    from zoo.train import sweep

    if args.stage == "grid":
        sweep(grid_configs(study, cells), name=f"{study.name}-study", **dict(options, scheduler="fifo"))
        return 0
    chosen = {}
    for cell in cells:
        done = sweep(search_configs(study, cell), name=f"{study.name}-search-{cell}", **options)
        chosen[cell] = done.run_id
    print(f"\nrecipes of study {study.name} (put them in zoo/presets.py STUDIES, with the sweep they came from):")
    from zoo import tracking

    for cell, parent in chosen.items():
        print(f"  {cell}: {tracking.best_recipe(parent)}  # search sweep {parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
