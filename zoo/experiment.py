"""What every experiment script shares: the study's comparison, presets, and its command line.

    python experiments/<script>.py [--preset quick|full] [--seeds 0,1,2] [--set FIELD=VALUE ...]
                                   [--grid FIELD=V1,V2 ...] [--executor ray [--address HOST:PORT|auto]]

A script runs the comparison of its dataset's study (zoo.presets.STUDIES: IMDB or SST-2, EWT, PTB
or Tiny Shakespeare), the same one `experiments/study.py` runs: every cell of the study at its own
recipe (optimizer and learning rate chosen by the study's search) and settings, without and with
global-norm clipping. `--preset full` is the study's grid itself (its base configuration and
seeds, `--seeds` to choose them): the runs are the study's, so either command finishes what the
other started. `--preset quick` runs the same cells at the same recipes on a few CPU minutes of
data. `--set` changes the base configuration but not the recipes (`--set learning_rate=...` is
refused: it would put every cell at one cell's rate); `--grid` replaces the comparison by the
product of its values (a sweep of your own, as python -m zoo sweep). A configuration that
already has a finished run in the store is not run again (`--fresh` does): a script stopped half
way, re-run with the same command, does only the rest.
"""

import argparse
import dataclasses

from zoo.config import apply_overrides, parse_grid
from zoo.errors import UserError, command
from zoo.presets import STUDIES
from zoo.study import grid_configs

RECIPE_FIELDS = ("optimizer", "learning_rate")


def study_of(config):
    """The study of the configuration's task and dataset (STUDIES; a cell study, not a transfer
    study), or a one-line error."""
    found = [study for study in STUDIES.values() if study.pretrain is None
             and study.base.task == config.task and study.base.dataset == config.dataset]
    if not found:
        valid = [study.base.dataset for study in STUDIES.values() if study.base.task == config.task]
        raise UserError(f"No study compares the cells on dataset {config.dataset!r} (task {config.task}); the "
                        f"studies' datasets: {', '.join(valid)}. Pass --grid to run a sweep of your own on it.")
    return found[0]


def seed_list(text):
    """"0,2" -> (0, 2); anything else is one line that says what a seed list looks like."""
    try:
        return tuple(int(seed) for seed in text.split(","))
    except ValueError:
        raise UserError(f"Received an invalid value for argument `--seeds`, expected comma-separated whole numbers "
                        f"such as 0,1,2, got {text!r}.") from None


def add_executor_arguments(parser):
    """The options that run a sweep's runs on a Ray cluster (zoo.cluster); read by `executor_options`."""
    parser.add_argument("--executor", choices=("local", "ray"), default="local", help="local: one run after "
                        "another here (default); ray: a Ray Tune trial per run, on every node of a Ray cluster")
    parser.add_argument("--address", help="with --executor ray: the cluster, HOST:PORT or auto (one started with "
                        "ray start on this machine); default: start Ray here")
    parser.add_argument("--cpus-per-trial", type=float, default=1, help="CPUs reserved per trial (default 1)")
    parser.add_argument("--gpus-per-trial", type=float, default=0, help="GPUs reserved per trial (default 0)")
    parser.add_argument("--scheduler", choices=("fifo", "asha"), default="fifo", help="with --executor ray: asha "
                        "stops trials whose val_loss falls behind after each epoch (a learning-rate search)")


def executor_options(args):
    """The keyword arguments of zoo.train.sweep that `add_executor_arguments`'s options give."""
    if args.executor == "local" and (args.address or args.scheduler != "fifo"):
        raise UserError("--address and --scheduler asha need --executor ray.")
    if args.cpus_per_trial <= 0 or args.gpus_per_trial < 0:
        raise UserError("--cpus-per-trial must be > 0 and --gpus-per-trial >= 0.")
    return dict(executor=args.executor, address=args.address, cpus=args.cpus_per_trial, gpus=args.gpus_per_trial,
                scheduler=args.scheduler)


@command
def main(doc, presets, argv=None):
    """Parses the script's command line, runs its sweep, prints the table; returns the exit code.

    presets: {name: Config}; the first (quick) is the default; any other runs the grid of the study
    of its dataset (the Config only names the dataset then; the study's base is the configuration).
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--preset", choices=list(presets), default=next(iter(presets)),
                        help="quick: the study's cells and recipes on a few CPU minutes of data; full: the study's grid")
    parser.add_argument("--seeds", help="comma-separated seeds (default: the study's for full, 0 for quick)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a configuration field, e.g. --set dataset=sst2 --set epochs=3")
    parser.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2",
                        help="sweep these values instead of the study's comparison")
    parser.add_argument("--fresh", action="store_true",
                        help="run every configuration again, also those that already have a finished run")
    add_executor_arguments(parser)
    args = parser.parse_args(argv)
    options = executor_options(args)
    args.seeds = args.seeds and seed_list(args.seeds)
    preset = apply_overrides(presets[args.preset], args.set)
    from zoo import train

    if args.grid:
        configs = train.grid(preset, parse_grid(args.grid))
        if args.seeds:
            configs = [dataclasses.replace(c, seed=seed) for seed in args.seeds for c in configs]
        train.sweep(configs, resume=not args.fresh, **options)  # prints each run's summary line and the table
        return 0
    study = study_of(preset)
    owned = {*RECIPE_FIELDS, "clipping", "seed", *(key for cell in study.cells for key in study.cell(cell))}
    refused = [assignment.split("=", 1)[0] for assignment in args.set if assignment.split("=", 1)[0] in owned]
    if refused:
        field = refused[0]
        why = ("would run every cell at one recipe; the study gives each cell its own" if field in RECIPE_FIELDS
               else "is what the study varies or sets per cell" if field != "seed" else "is chosen with --seeds")
        raise UserError(f"--set {field} {why} (zoo/presets.py STUDIES). Pass --grid to sweep it yourself, e.g. "
                        f"--grid {field}=..., or python -m zoo sweep.")
    full = args.preset != "quick"  # full (and the LM's tinyshakespeare): the study's grid itself, its base
    #                                 changed only by --set; quick: the same cells and recipes over the preset
    study = dataclasses.replace(study, base=apply_overrides(study.base, args.set) if full else preset,
                                seeds=args.seeds or (study.seeds if full else (preset.seed,)))
    train.sweep(grid_configs(study), resume=not args.fresh, name=f"{study.name}-study" if full else None, **options)
    return 0
