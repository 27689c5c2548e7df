"""A study: each cell at its own recipe, clipping none against global norm, several seeds.

    study = STUDIES["sst2"]                      # zoo.presets
    search_configs(study, "irnn")                # the recipe search of one cell (reduced budget, clipping on)
    grid_configs(study)                          # cells x clipping x seeds at each cell's recipe, full size

A recipe (optimizer, learning rate) is chosen per cell on validation data, so that no cell is
compared at another cell's settings: the search is one sweep per cell whose parent records the
choice (best_config.json); the choice goes into the study's `recipes` with the run it came from.
"""

import dataclasses
from dataclasses import dataclass, field

from zoo.config import Config
from zoo.errors import UserError

# the cells every study compares, by the name its tables show
CELLS = {
    "vanilla-tanh": dict(cell="vanilla", activation="tanh"),
    "irnn": dict(cell="vanilla", activation="relu", recurrent_initializer="identity"),
    "gru": dict(cell="gru"),
    "lstm": dict(cell="lstm"),
    "tcn": dict(cell="tcn", bidirectional=False),  # causal convolutions read one way only
}
CLIPPING = ("none", "global_norm")


@dataclass(frozen=True)
class Study:
    """One task's study. base: the full-size configuration (clipping threshold included);
    search: the fields the recipe search overrides (its reduced budget); rates: {optimizer:
    learning rates} searched for every cell, unless `searches` gives a cell its own; settings:
    fields a cell keeps in this study's search and grid (e.g. an initial spectral radius);
    recipes: {cell: {optimizer, learning_rate}} chosen by the search."""

    name: str
    description: str
    base: Config
    search: dict
    rates: dict
    seeds: tuple = (0, 1, 2)
    searches: dict = field(default_factory=dict)  # {cell: {optimizer: learning rates}}
    settings: dict = field(default_factory=dict)  # {cell: {field: value}}
    recipes: dict = field(default_factory=dict)
    cells: tuple = tuple(CELLS)

    def cell(self, name):
        """The configuration fields of cell `name` in this study."""
        if name not in self.cells:
            raise UserError(f"Invalid cell {name!r} for study {self.name!r}; valid choices: {', '.join(self.cells)}.")
        return {**CELLS[name], **self.settings.get(name, {})}


def search_configs(study, cell):
    """The recipe search of `cell`: every searched optimizer x learning rate, clipping on, on the
    study's reduced budget, seed 0."""
    base = dataclasses.replace(study.base, **study.search, **study.cell(cell), clipping="global_norm")
    return [dataclasses.replace(base, optimizer=optimizer, learning_rate=rate)
            for optimizer, rates in study.searches.get(cell, study.rates).items() for rate in rates]


def grid_configs(study, cells=None):
    """Cells x clipping x seeds at full size, each cell at its recipe; seed by seed, so that a grid
    stopped early has whole tables of fewer seeds."""
    missing = [cell for cell in cells or study.cells if cell not in study.recipes]
    if missing:
        raise UserError(f"No recipe yet for {', '.join(missing)} in study {study.name!r}: run "
                        f"python experiments/study.py {study.name} --stage search, and put each cell's "
                        "choice in zoo/presets.py STUDIES.")
    return [dataclasses.replace(study.base, **study.cell(cell), **study.recipes[cell], clipping=clipping, seed=seed)
            for seed in study.seeds for cell in cells or study.cells for clipping in CLIPPING]


def cell_of(study, config):
    """The name of the study's cell that `config` runs."""
    return next(name for name in study.cells
                if all(getattr(config, key) == value for key, value in study.cell(name).items()))
