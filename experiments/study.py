"""The study: each cell at its own recipe, then clipping none against global norm over seeds.

    python experiments/study.py sst2 --stage search     # per cell: successive halving of optimizer x
                                                        # learning rate, clipping on, from the study's
                                                        # small budget up to the full size
    python experiments/study.py sst2                    # the grid at the recipes in zoo/presets.py
    python experiments/study.py sst2 --cells lstm,gru   # part of the grid
    python experiments/study.py imdb --cells tcn --seeds 2   # one seed of one cell (another machine's part)
    python experiments/study.py sst2 --executor ray --address auto   # runs as Ray Tune trials on a cluster
    python experiments/study.py imdb-transfer           # a transfer study: pretrain the language models,
                                                        # then the classifier from scratch and pretrained
    python -m zoo report                                # every study's tables and figures, from the store

Stage `search` is successive halving, per cell (zoo.study.halving): every candidate recipe
(optimizer x 5 log-spaced rates) on every search seed at the first budget, then the best third
(at least 2) at each next budget, and the best 2 at the full size, one sweep per budget; a recipe
scores the mean over seeds of its runs' lowest validation loss. It prints each cell's choice
against its runner-up at full size and against the recipe in zoo/presets.py; the choices are
then written into STUDIES by hand, with the date. The full-size search runs are grid runs of
their seed (clipping on), which the grid then skips. Stage `grid` runs cells x {none,
global_norm} x seeds at full size as one sweep. Both resume: a configuration that already has a
finished run in the store is skipped, so a study stopped half way is finished by the same command.

A transfer study (zoo.presets: imdb-transfer, sst2-transfer, sst2-1k-transfer) has no search (its
recipe is its classifier's study's); its grid first runs its language models (one sweep, skipped
where they have finished), then its arms with the ids of those runs as init_from.
"""

import argparse
import dataclasses
import sys

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

from zoo.errors import UserError, command  # noqa: E402
from zoo.experiment import add_executor_arguments, executor_options, seed_list  # noqa: E402
from zoo.presets import STUDIES  # noqa: E402
from zoo.study import grid_configs, halving, pretrain_configs, resolved, sources_of  # noqa: E402


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
        if study.pretrain is not None:
            from zoo import tracking

            sweep(pretrain_configs(study), name=f"{study.name}-pretrain", **dict(options, scheduler="fifo"))
            models = tracking.runs(study.pretrain.task)
            sources = sources_of(study, models)
            if sources is None:
                raise UserError(f"The language models of study {study.name!r} did not finish (sweep "
                                f"{study.name}-pretrain in {tracking.tracking_uri()}); see why with python -m zoo "
                                "compare, then run this command again (it resumes).")
            if "tags.record_of" in models and models["tags.record_of"].isin(list(sources.values())).any():
                raise UserError(f"The language models of study {study.name!r} in {tracking.tracking_uri()} are "
                                "imported records, without logged models to start from; run the study against a "
                                "store of its own (MLFLOW_TRACKING_URI=sqlite:///PATH/mlflow.db).")
            study = resolved(study, sources)
        sweep(grid_configs(study, cells), name=f"{study.name}-study", **dict(options, scheduler="fifo"))
        return 0
    if not study.rates:
        raise UserError(f"Study {study.name!r} has no recipe search (its recipes are its classifier's study's); "
                        f"run python experiments/study.py {study.name}.")
    from zoo.train import validation_losses

    rows = []
    for cell in cells:
        def run(configs, rung):
            sweep(configs, name=f"{study.name}-search-{cell}-budget{rung}", **options)

        def losses(configs):
            return [loss for _, loss in validation_losses(configs, study.base.task)]

        scores, ranked = halving(study, cell, run, losses)
        (choice, choice_scores), (second, second_scores) = ((r, scores[r]) for r in ranked[:2])
        now = study.recipes.get(cell, {})
        rows.append({"cell": cell, "choice": f"{choice[0]} {choice[1]:g}", "full-size val_loss": choice_scores[-1],
                     "runner-up": f"{second[0]} {second[1]:g}", "its full-size val_loss": second_scores[-1],
                     "recipe in zoo/presets.py": f"{now.get('optimizer')} {now.get('learning_rate', 0):g}" if now else "-",
                     "changed": bool(now) and (now["optimizer"], now["learning_rate"]) != choice})
    import pandas as pd

    print(f"\nsuccessive halving of study {study.name} (the choices go into zoo/presets.py STUDIES; the grid reruns "
          f"the cells whose recipe changed):\n" + pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4g"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
