"""What every experiment script shares: the default comparison, presets, and its command line.

    python experiments/<script>.py [--preset quick|full] [--set FIELD=VALUE ...] [--grid FIELD=V1,V2 ...]

By default a script runs the comparison the zoo exists for, as one MLflow sweep: {vanilla tanh,
vanilla ReLU with identity init (IRNN), GRU, LSTM} x {no clipping, global-norm clipping at 1.0},
then prints the comparison table. `--grid` replaces that grid by the product of its values.
A configuration that already has a finished run in the store is not run again (`--fresh` does):
a script stopped half way, re-run with the same command, does only the rest.
"""

import argparse
import dataclasses

from zoo.config import apply_overrides, parse_grid
from zoo.errors import command
from zoo.presets import CELLS, CLIPPING


def comparison(base, cells=CELLS):
    """The default grid over `base`: every cell without and with global-norm clipping."""
    return [apply_overrides(dataclasses.replace(base, **cell, clipping=clipping), [])
            for cell in cells for clipping in CLIPPING]


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
    args = parser.parse_args(argv)
    base = apply_overrides(presets[args.preset], args.set)
    from zoo import train

    configs = train.grid(base, parse_grid(args.grid)) if args.grid else comparison(base)
    train.sweep(configs, resume=not args.fresh)  # prints each run's summary line and the comparison table
    return 0
