"""Reading and shaping data: what the dataset table (zoo.datasets) and the tasks (zoo.tasks) use.

    pipelines.py  Data (tf.data pipelines + what a model needs to know), slices, splits, fingerprints
    files.py      the data directory and the file readers (CSV/TSV, CoNLL-U, text), one-line errors
    remote.py     the same datasets from TFDS or their canonical URLs (source=download)
    synthetic.py  the generated long-range tasks (adding, copy memory)

Submodules import each other directly, never this package's names, so there is no import cycle.
"""

from zoo.data.pipelines import Data, from_arrays, prefetched, sample  # noqa: F401  (the public names)
