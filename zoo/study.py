"""A study: each cell at its own recipe, clipping none against global norm, several seeds.

    study = STUDIES["sst2"]                      # zoo.presets
    search_configs(study, "irnn")                # the recipe search of one cell (reduced budget, clipping on)
    grid_configs(study)                          # cells x clipping x seeds at each cell's recipe, full size

A recipe (optimizer, learning rate) is chosen per cell on validation data, so that no cell is
compared at another cell's settings: the search is one sweep per cell whose parent records the
choice (best_config.json); the choice goes into the study's `recipes` with the run it came from.
"""

import dataclasses
import math
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
    recipes: {cell: {optimizer, learning_rate}} chosen by the search; rungs: the budgets of the
    successive-halving search between `search` (its first) and the full size (its last), each the
    fields it overrides; search_seeds: the seeds every recipe runs at each budget; eta: a third
    (1/eta) of the recipes go on to the next budget, and the best two to the full size."""

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
    rungs: tuple = ()
    search_seeds: tuple = (0,)
    eta: int = 3

    def cell(self, name):
        """The configuration fields of cell `name` in this study."""
        if name not in self.cells:
            raise UserError(f"Invalid cell {name!r} for study {self.name!r}; valid choices: {', '.join(self.cells)}.")
        return {**CELLS[name], **self.settings.get(name, {})}


def candidates(study, cell):
    """[(optimizer, learning rate)] the search tries for `cell`."""
    return [(optimizer, rate) for optimizer, rates in study.searches.get(cell, study.rates).items() for rate in rates]


def budgets(study):
    """The search's budgets, smallest first: `search`, each of `rungs`, then the full size ({});
    one that gives the same configuration as the budget before it is left out."""
    found = []
    for budget in (study.search, *study.rungs, {}):
        if not found or dataclasses.replace(study.base, **budget) != dataclasses.replace(study.base, **found[-1]):
            found.append(budget)
    return found


def search_configs(study, cell, recipes=None, budget=None):
    """The search's runs of `cell` on one budget (default: the first): each recipe (default: every
    candidate) x search seed, clipping on."""
    base = dataclasses.replace(study.base, **(study.search if budget is None else budget), **study.cell(cell),
                               clipping="global_norm")
    return [dataclasses.replace(base, optimizer=optimizer, learning_rate=rate, seed=seed)
            for optimizer, rate in (candidates(study, cell) if recipes is None else recipes)
            for seed in study.search_seeds]


def every_search_config(study, cell):
    """The search's runs of `cell` at every budget, for every candidate (those a store may hold)."""
    return [config for budget in budgets(study) for config in search_configs(study, cell, budget=budget)]


def halving(study, cell, run, losses):
    """Successive halving of `cell`'s recipes: every candidate on the first budget, then the best
    third (at least 2) on the next, and the best 2 at full size, each recipe on every search seed;
    a recipe's score on a budget is the mean over seeds of each run's lowest validation loss (a
    seed that diverged or did not finish: inf). run(configs, rung): runs them; losses(configs):
    [val loss] of their runs. Returns ({(optimizer, rate): [score per budget reached]}, the
    recipes of the full size ranked best first)."""
    recipes, scores = candidates(study, cell), {}
    steps = budgets(study)
    for rung, budget in enumerate(steps):
        configs = search_configs(study, cell, recipes, budget)
        run(configs, rung)
        found = losses(configs)
        per_seed = len(study.search_seeds)
        for i, recipe in enumerate(recipes):
            scores.setdefault(recipe, []).append(float(sum(found[i * per_seed:(i + 1) * per_seed]) / per_seed))
        recipes = sorted(recipes, key=lambda recipe: scores[recipe][-1])
        if rung + 1 < len(steps):
            recipes = recipes[:2 if rung + 2 == len(steps) else max(2, math.ceil(len(recipes) / study.eta))]
    return scores, recipes


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
