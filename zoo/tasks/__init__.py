"""Every task in one table: TASKS[name] is its TaskSpec (zoo.tasks.spec, a subclass in one module per task).

    adding, copy   zoo/tasks/synthetic.py   generated long-range tasks
    sentiment      zoo/tasks/sentiment.py   many-to-one text classification
    pos            zoo/tasks/tagging.py     many-to-many tagging
    lm             zoo/tasks/language.py    language modelling and generation

Code outside zoo/tasks asks the spec (get(name)) instead of branching on a task's name.
"""

from zoo.errors import UserError
from zoo.tasks import language, sentiment, synthetic, tagging
from zoo.tasks.spec import Export, Report, TaskSpec  # noqa: F401  (the public names)

TASKS = {spec.name: spec for spec in (synthetic.Adding(), synthetic.Copy(), sentiment.Sentiment(), tagging.Tagging(),
                                      language.LanguageModel())}


def get(name):
    """The TaskSpec of `name`; a UserError that lists the valid tasks otherwise."""
    if name not in TASKS:
        raise UserError(f"Invalid task {name!r}; valid choices: {', '.join(TASKS)}.")
    return TASKS[name]


def exportable():
    """The names of the tasks whose runs export."""
    return [name for name, spec in TASKS.items() if spec.export is not None]
