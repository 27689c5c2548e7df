"""What every experiment script shares: the default comparison, presets, and its command line.

    python experiments/<script>.py [--preset quick|full] [--set FIELD=VALUE ...] [--grid FIELD=V1,V2 ...]
                                   [--executor ray [--address HOST:PORT|auto]]

By default a script runs the comparison the zoo exists for, as one MLflow sweep: {vanilla tanh,
vanilla ReLU with identity init (IRNN), GRU, LSTM} x {no clipping, global-norm clipping at 1.0},
then prints the comparison table. `--grid` replaces that grid by the product of its values.
A configuration that already has a finished run in the store is not run again (`--fresh` does):
a script stopped half way, re-run with the same command, does only the rest.
"""

import argparse
import dataclasses

from zoo.config import apply_overrides, parse_grid
from zoo.errors import UserError, command
from zoo.presets import CELLS, CLIPPING


def comparison(base, cells=CELLS):
    """The default grid over `base`: every cell without and with global-norm clipping."""
    return [apply_overrides(dataclasses.replace(base, **cell, clipping=clipping), [])
            for cell in cells for clipping in CLIPPING]


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

    presets: {name: Config}; the first is the default.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--preset", choices=list(presets), default=next(iter(presets)),
                        help="quick: a few CPU minutes on small slices; full: the benchmark configuration")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a configuration field, e.g. --set dataset=sst2 --set epochs=3")
    parser.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2",
                        help="sweep these values instead of the default cells x clipping grid")
    parser.add_argument("--fresh", action="store_true",
                        help="run every configuration again, also those that already have a finished run")
    add_executor_arguments(parser)
    args = parser.parse_args(argv)
    options = executor_options(args)
    base = apply_overrides(presets[args.preset], args.set)
    from zoo import train

    configs = train.grid(base, parse_grid(args.grid)) if args.grid else comparison(base)
    train.sweep(configs, resume=not args.fresh, **options)  # prints each run's summary line and the comparison table
    return 0
