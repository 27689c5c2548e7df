"""A study: each cell at its own recipe, clipping none against global norm, several seeds.

    study = STUDIES["sst2"]                      # zoo.presets
    search_configs(study, "irnn")                # the recipe search of one cell (reduced budget, clipping on)
    grid_configs(study)                          # cells x clipping x seeds at each cell's recipe, full size
    resolved(study, sources_of(study, runs))     # a transfer study with its pretraining runs' ids filled in

A recipe (optimizer, learning rate) is chosen per cell on validation data, so that no cell is
compared at another cell's settings: the search is one sweep per cell whose parent records the
choice (best_config.json); the choice goes into the study's `recipes` with the run it came from.

A transfer study (issue "pretraining"; zoo.transfer) compares arms instead of cells: the same
classifier from scratch and started from the study's pretraining run(s), a language model on
unlabelled text (`pretrain`; with a bidirectional classifier also the same model reading
backwards). An arm's init_from is PRETRAINED until `resolved` puts in the ids of those runs, as
found in a store or in committed records (`sources_of`).
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
# the comparisons of cells the intervals test, in each clipping mode (besides clipping against none)
PAIRS = (("irnn", "vanilla-tanh"), ("gru", "vanilla-tanh"), ("lstm", "vanilla-tanh"), ("tcn", "lstm"))
PRETRAINED = "pretrained"  # an arm's init_from (and init_from_backward): the study's pretraining run


@dataclass(frozen=True)
class Study:
    """One task's study. base: the full-size configuration (clipping threshold included);
    search: the fields the recipe search overrides (its reduced budget); rates: {optimizer:
    learning rates} searched for every cell, unless `searches` gives a cell its own; settings:
    fields a cell keeps in this study's search and grid (e.g. an initial spectral radius);
    recipes: {cell: {optimizer, learning_rate}} chosen by the search; rungs: the budgets of the
    successive-halving search between `search` (its first) and the full size (its last), each the
    fields it overrides; search_seeds: the seeds every recipe runs at each budget; eta: a third
    (1/eta) of the recipes go on to the next budget, and the best two to the full size.
    A transfer study: arms (instead of zoo.study.CELLS: {name: fields}, init_from=PRETRAINED in
    those that start from `pretrain`), clippings (the grid's clipping modes), pairs (the (a, b)
    its intervals compare)."""

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
    arms: dict = field(default_factory=dict)
    clippings: tuple = CLIPPING
    pairs: tuple = PAIRS
    pretrain: Config | None = None

    def cell(self, name):
        """The configuration fields of cell `name` in this study."""
        if name not in self.cells:
            raise UserError(f"Invalid cell {name!r} for study {self.name!r}; valid choices: {', '.join(self.cells)}.")
        return {**(self.arms or CELLS)[name], **self.settings.get(name, {})}


def pretrain_configs(study):
    """The language models a transfer study pretrains: `pretrain`, and the same reading backwards
    where the classifier is bidirectional (its backward halves)."""
    if study.pretrain is None:
        return []
    return [study.pretrain] + ([dataclasses.replace(study.pretrain, reverse=True)] if study.base.bidirectional else [])


def sources_of(study, runs):
    """{"init_from": run id, "init_from_backward": run id or ""} of the study's pretraining runs
    among `runs` (zoo.tracking.runs or zoo.records.frame, FINISHED ones), or None where one is
    missing."""
    from zoo import compare

    configs = [dataclasses.asdict(config) for config in pretrain_configs(study)]
    if not configs or runs.empty:
        return None
    found = compare.matching(compare.comparable(runs[runs["status"].eq("FINISHED")]), configs)
    if len(found) < len(configs):
        return None
    # a run imported from a record answers to the record's id, as the runs that started from it do
    ids = [found[i].get("tags.record_of") if isinstance(found[i].get("tags.record_of"), str) else found[i]["run_id"]
           for i in range(len(configs))]
    return {"init_from": ids[0], "init_from_backward": ids[1] if len(ids) > 1 else ""}


def resolved(study, sources):
    """`study` with its arms' PRETRAINED replaced by the `sources` (sources_of) ids; without
    sources, the arms that start from them are left out of its cells."""
    if not study.arms:
        return study
    pretrained = [name for name, fields in study.arms.items() if fields.get("init_from") == PRETRAINED]
    if sources is None:
        return dataclasses.replace(study, cells=tuple(name for name in study.cells if name not in pretrained))
    arms = {name: {**fields, **{key: sources[key] for key, value in fields.items() if value == PRETRAINED}}
            for name, fields in study.arms.items()}
    return dataclasses.replace(study, arms=arms)


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
    unresolved = [cell for cell in cells or study.cells if PRETRAINED in study.cell(cell).values()]
    if unresolved:
        raise UserError(f"No pretraining run yet for {', '.join(unresolved)} in study {study.name!r}: run "
                        f"python experiments/study.py {study.name} (it pretrains first).")
    return [dataclasses.replace(study.base, **study.cell(cell), **study.recipes[cell], clipping=clipping, seed=seed)
            for seed in study.seeds for cell in cells or study.cells for clipping in study.clippings]


def cell_of(study, config):
    """The name of the study's cell that `config` runs."""
    return next(name for name in study.cells
                if all(getattr(config, key) == value for key, value in study.cell(name).items()))
