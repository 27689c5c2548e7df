"""Training with XLA against without, on one study cell: the cell's grid configuration (its study
recipe and settings, clipping on) compiled as `run` compiles it (zoo.train.compiled_monitor) with
xla_training off (Keras's jit_compile="auto", which is off on a CPU) and on, timed over the same
real training batches. Interleaved rounds; the table gives the median ms per training step.

    python benchmarks/xla_training.py                               # tinyshakespeare, tcn
    python benchmarks/xla_training.py --study ptb --cell tcn --batches 20

Writes benchmarks/results/xla-training-<study>-<cell>.md. Nothing is logged to MLflow.
"""

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

import pandas as pd  # noqa: E402
from tqdm import tqdm  # noqa: E402

from zoo import datasets, models, train  # noqa: E402
from zoo.errors import UserError, command  # noqa: E402
from zoo.presets import STUDIES  # noqa: E402
from zoo.study import grid_configs  # noqa: E402


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", default="tinyshakespeare")
    parser.add_argument("--cell", default="tcn")
    parser.add_argument("--batches", type=int, default=10, help="timed training steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is over them")
    args = parser.parse_args(argv)
    if args.study not in STUDIES:
        raise UserError(f"Invalid --study {args.study!r}; valid choices: {', '.join(STUDIES)}.")
    study = STUDIES[args.study]
    if args.cell not in study.recipes:
        raise UserError(f"Invalid --cell {args.cell!r} for study {args.study}; valid choices: "
                        f"{', '.join(study.recipes)}.")
    for name in ("batches", "rounds"):
        if getattr(args, name) < 1:
            raise UserError(f"Invalid --{name} {getattr(args, name)}: expected an integer >= 1.")
    config = next(c for c in grid_configs(study, [args.cell]) if c.clipping == "global_norm")
    data = datasets.load(config)
    batches = list(data.train.take(args.batches + 1))  # the first one traces (and compiles)
    contenders = {}
    for xla in (False, True):
        variant = dataclasses.replace(config, xla_training=xla)
        contenders[xla] = train.compiled_monitor(variant, models.build(variant, data))
    timings = {xla: [] for xla in contenders}
    with tqdm(total=args.rounds * len(contenders), desc="rounds x contenders") as bar:
        for _ in range(args.rounds):
            for xla, monitor in contenders.items():
                monitor.train_on_batch(*batches[0])
                start = time.perf_counter()
                for x, y in batches[1:]:
                    monitor.train_on_batch(x, y)
                timings[xla].append((time.perf_counter() - start) / args.batches * 1000)
                bar.update()
    off = statistics.median(timings[False])
    table = pd.DataFrame([{"xla_training": xla, "jit_compile": monitor.jit_compile,
                           "ms per training step (median)": round(statistics.median(timings[xla]), 1),
                           "rounds": ", ".join(f"{t:.0f}" for t in timings[xla]),
                           "speed-up": round(off / statistics.median(timings[xla]), 2)}
                          for xla, monitor in contenders.items()])
    shape = tuple(batches[1][0].shape)
    text = (f"# XLA training: {args.study}, {args.cell} ({config.optimizer} {config.learning_rate:g}, clipping on)\n\n"
            f"`python benchmarks/xla_training.py --study {args.study} --cell {args.cell} --batches {args.batches} "
            f"--rounds {args.rounds}`: batches of shape {shape}, {args.batches} timed steps a round after one "
            "untimed step.\n\n" + table.to_markdown(index=False) + "\n")
    out = ROOT / "benchmarks" / "results" / f"xla-training-{args.study}-{args.cell}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
