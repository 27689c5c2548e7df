"""The first training steps of a study's cell, one by one: how a run that diverges early diverges.

The study's grid configuration of the cell (its recipe, seed 0, the full data; clipping as
chosen) is trained step by step with the model, optimizer and seed that zoo.train uses (the
batches come in this script's order, which need not be the tracked run's). Before each step it
prints the loss on the step's batch, the largest |state| of each recurrent layer over the words,
the batch, the units and both directions ("max state"), and the spectral radius and the norm
(largest singular value) of each vanilla layer's W_hh; then the step's gradient norm (before
clipping) and the largest change the step made to any W_hh entry. Prints a table; nothing is
written to the store.

    python experiments/first_steps.py imdb irnn                         # diverges at step 2
    python experiments/first_steps.py imdb irnn --clipping global_norm
    python experiments/first_steps.py imdb irnn --set limit=5000        # the search's slice
    python experiments/first_steps.py imdb vanilla-tanh
"""

import argparse
import sys

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

from zoo.config import apply_overrides  # noqa: E402
from zoo.errors import command  # noqa: E402
from zoo.presets import CLIPPING, STUDIES  # noqa: E402
from zoo.study import grid_configs  # noqa: E402


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", choices=list(STUDIES))
    parser.add_argument("cell", help="a cell of the study, e.g. irnn")
    parser.add_argument("--clipping", choices=CLIPPING, default="none")
    parser.add_argument("--steps", type=int, default=3, help="training steps to take (default 3)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a field of the cell's configuration, e.g. --set limit=5000")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    study = STUDIES[args.study]
    study.cell(args.cell)  # an unknown cell is one line, before the data loads
    config = next(config for config in grid_configs(study, [args.cell])
                  if config.clipping == args.clipping and config.seed == 0)
    config = apply_overrides(config, args.set)

    import keras
    import numpy as np
    import pandas as pd
    import tensorflow as tf

    from zoo import datasets, diagnostics, models
    from zoo.layers import VanillaRNN

    data = datasets.load(config)
    keras.utils.set_random_seed(config.seed)
    net = models.build(config, data)
    loss_fn, _ = models.loss_and_metrics(config, net.output_shape[-1])
    optimizer = models.optimizer(config)
    # the model's own recurrent layers (a Bidirectional counts once): their outputs are the states
    recurrent = [layer for layer in net.layers if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))]
    names = [layer.name for layer in recurrent]
    states = keras.Model(net.inputs, [layer.output for layer in recurrent])
    vanilla = [layer for layer in diagnostics.recurrent_layers(net) if isinstance(layer, VanillaRNN)]
    kernels = [layer.cell.recurrent_kernel for layer in vanilla]

    def radius_and_norm(layers, kernels):
        """Spectral radius and norm (largest singular value) of each W_hh: a state can grow by the
        norm per step while the radius stays near 1."""
        values = {}
        for layer, kernel in zip(layers, kernels):
            matrix = kernel.numpy()
            values[f"radius {layer.path}"] = diagnostics.spectral_radius(matrix)
            values[f"norm {layer.path}"] = diagnostics.spectral_norm(matrix)
        return values

    rows = []
    for step, (inputs, targets) in zip(range(1, args.steps + 1), data.train):
        outputs = states(inputs)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        row = {"step": step, **radius_and_norm(vanilla, kernels),
               **{f"max state {name}": float(np.max(np.abs(output))) for name, output in zip(names, outputs)}}
        with tf.GradientTape() as tape:
            loss = loss_fn(targets, net(inputs, training=True))
        gradients = tape.gradient(loss, net.trainable_variables)
        before = [kernel.numpy() for kernel in kernels]
        optimizer.apply_gradients(zip(gradients, net.trainable_variables))
        change = max((float(np.max(np.abs(kernel.numpy() - old))) for kernel, old in zip(kernels, before)),
                     default=float("nan"))
        rows.append(row | {"loss": float(loss), "grad_norm": float(tf.linalg.global_norm(gradients)),
                           "largest W_hh change": change})
        print(f"step {step}: loss {float(loss):.4g}, gradient norm {rows[-1]['grad_norm']:.4g}", flush=True)
    rows.append({"step": f"after {args.steps}", **radius_and_norm(vanilla, kernels)})
    print(f"\n{study.name} {args.cell}: {config.optimizer} {config.learning_rate:g}, clipping {config.clipping}")
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4g"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
