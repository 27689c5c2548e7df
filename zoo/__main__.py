"""The zoo's command line.

    python -m zoo train --set task=adding --set cell=vanilla --set activation=relu
    python -m zoo sweep --grid cell=vanilla,gru --grid clipping=none,global_norm --set epochs=3
    python -m zoo compare [--experiment adding]

Configuration fields and their defaults: zoo/config.py. A bad value is one line on stderr and
exit code 2; a run that diverges is one line and exit code 1 (in a sweep the others go on).
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from zoo.config import TASKS, Config, apply_overrides, parse_grid  # noqa: E402
from zoo.errors import UserError  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    overrides = dict(action="append", default=[], metavar="FIELD=VALUE",
                     help="set a configuration field (repeatable), e.g. --set units=128")
    train = commands.add_parser("train", help="train, evaluate and track one configuration")
    train.add_argument("--set", **overrides)
    sweep = commands.add_parser("sweep", help="a grid of runs as one parent MLflow run")
    sweep.add_argument("--set", **overrides)
    sweep.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2",
                       help="values to sweep for a field (repeatable), e.g. --grid cell=vanilla,gru")
    compare = commands.add_parser("compare", help="print and save comparison tables of the runs")
    compare.add_argument("--experiment", action="append", choices=TASKS,
                         help="experiment(s) to compare (default: every task)")
    args = parser.parse_args(argv)

    try:
        if args.command == "compare":
            from zoo.compare import compare as compare_runs

            for experiment in args.experiment or TASKS:
                compare_runs(experiment)
            return 0
        config = apply_overrides(Config(), args.set)
        from zoo import train as engine  # imports TensorFlow: after the configuration is checked

        if args.command == "train":
            result = engine.run(config)
            print(result.summary())
            return 1 if result.status == "FAILED" else 0
        grid = parse_grid(args.grid)
        if not grid:
            raise UserError("sweep needs at least one --grid FIELD=V1,V2, e.g. --grid cell=vanilla,gru.")
        for result in engine.sweep(engine.grid(config, grid)).results:
            print(result.summary())
        return 0
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
