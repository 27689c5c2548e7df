"""Every workaround the zoo uses for an upstream bug or a private API, in one place.

Each one is a small function or constant here, with a comment that gives the upstream issue (or
"private API, no issue"), what it works around and the versions it was checked against; the
table `WORKAROUNDS` lists them all, including those that live elsewhere for a reason (their
`where_used` says where). tests/test_compat.py fails when an installed version differs from the
one a workaround was checked against: re-check that workaround (is it still needed? does it still
work?), then update `checked_version` here and the pin in requirements.txt together.

Imports: Keras and TensorFlow only at import time (zoo.layers imports this module); MLflow,
tensorflow_datasets and importlib_resources are imported by the functions that need them.
"""

import contextlib
import os
from dataclasses import dataclass

import tensorflow as tf

# Private API, no issue (checked: keras 3.15.1). Keras keeps private the mixin that gives a cell
# `get_dropout_mask`: one input-dropout mask, cached for all steps of a sequence; and
# `keras.layers.RNN` checks `isinstance(cell, DropoutRNNCell)` to make that mask before its loop and
# reset it after every call. Subclassing it gives a custom cell SimpleRNNCell's dropout semantics;
# Keras exports no public equivalent.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell  # noqa: F401


@dataclass(frozen=True)
class Workaround:
    """One workaround: `name` (the compat function/constant, or what the code does), the
    distribution `package` it is for and `checked_version` (the installed version it was checked
    against), `upstream` (issue URL, or why there is none), `why`, and `where_used`."""

    name: str
    package: str
    checked_version: str
    upstream: str
    why: str
    where_used: str


def log_keras_model(net, flavor=None, **log_model_kwargs):
    """`mlflow.keras.log_model(net, **log_model_kwargs)`, working with an `input_example`; flavor:
    a module whose `save_model` saves as mlflow.keras's does (zoo.logged_model; default mlflow.keras).

    mlflow/mlflow#16183 (https://github.com/mlflow/mlflow/issues/16183, open; the fix PR
    https://github.com/mlflow/mlflow/pull/16300 was closed unmerged; checked: mlflow 3.17.2):
    `mlflow.keras.save_model` writes the input example into the model directory before it creates
    that directory, so logging with an input example fails with FileNotFoundError. This creates
    the directory first, as the proposed fix does, by wrapping mlflow.keras.save's `_save_example`
    for the duration of the call. Returns what `mlflow.keras.log_model` returns (a ModelInfo).
    """
    from unittest import mock

    import mlflow.keras
    import mlflow.keras.save as mlflow_keras_save
    from mlflow.models import Model

    save_example = mlflow_keras_save._save_example

    def save_example_into_new_dir(model, input_example, path, *args, **kwargs):
        os.makedirs(path, exist_ok=True)
        return save_example(model, input_example, path, *args, **kwargs)

    with mock.patch.object(mlflow_keras_save, "_save_example", save_example_into_new_dir):
        # what mlflow.keras.log_model does, with the flavor's save_model
        return Model.log(artifact_path=None, flavor=flavor or mlflow.keras, flavor_name="keras", model=net,
                         **log_model_kwargs)


def set_validation_steps_per_execution(model, steps_per_execution):
    """Sets `steps_per_execution` on the validation iterator that `fit` caches, if there is one
    (during `fit`, from the first validation on); returns whether there was one.

    Private API (checked: keras 3.15.1, TensorFlow backend): `fit` builds its validation iterator
    once, as `model._eval_epoch_iterator`, with the training `steps_per_execution`, and evaluates
    on it with the private `_use_cached_eval_dataset=True`; Keras has no separate
    steps_per_execution for validation (feature request
    https://github.com/keras-team/keras/issues/18070, closed without one).
    """
    validation = getattr(model, "_eval_epoch_iterator", None)
    if validation is None:
        return False
    validation.steps_per_execution = steps_per_execution
    return True


@contextlib.contextmanager
def swapped_inner_loop(layer, loop):
    """Within the context, the Keras RNN `layer` runs `loop` instead of its own `inner_loop`
    (same signature: (sequences, initial_state, mask, training) -> (last_output, outputs, states));
    after it, also when the body raises, the layer has its own again.

    Private API, no issue (checked: keras 3.15.1): `keras.layers.RNN.call` runs the time loop
    through `self.inner_loop`, a method Keras does not document as public. The loop is set on the
    instance (shadowing the class's method) and the instance attribute is removed afterwards.
    """
    missing = object()
    previous = vars(layer).get("inner_loop", missing)
    layer.inner_loop = loop
    try:
        yield layer
    finally:
        if previous is missing:
            del layer.inner_loop
        else:
            layer.inner_loop = previous


def flatten_layers(model, include_self=False):
    """Every layer inside `model`, recursively (both directions of a Bidirectional, the layers of
    nested models), without repeats; `model` itself first if `include_self`.

    Private API, no issue found (checked: keras 3.15.1): `Layer._flatten_layers`. The public
    `Model.layers` lists direct children only.
    """
    return model._flatten_layers(include_self=include_self)


def import_tfds():
    """The `tensorflow_datasets` module, importable.

    tensorflow/datasets#11212 (https://github.com/tensorflow/datasets/issues/11212, open; fix PRs
    https://github.com/tensorflow/datasets/pull/11227 and /pull/11234 open; checked:
    tensorflow-datasets 4.9.10, importlib_resources 7.1.0): TFDS's dataset_builder imports
    `importlib_resources` on every Python but declares it only for Python < 3.9, so it fails with
    ModuleNotFoundError where nothing else installed it. requirements.txt pins it; importing it
    here first makes a missing one fail at once, with its own name.
    """
    import importlib_resources  # noqa: F401

    import tensorflow_datasets

    return tensorflow_datasets


def untuned_prefetch(dataset):
    """`dataset` with two batches prefetched and tf.data's autotuning off: the end of every pipeline.

    With autotuning on, deleting an iterator that a tf.function read to its end (Keras does so
    after every epoch and every evaluation) can wait for the autotuner thread's current sleep,
    whose period doubles up to a minute: measured here (TF 2.21) 2.5 s after a 2.6-s epoch and
    15.6 s after a 25-s one. The zoo's pipelines read arrays in memory; there is nothing to tune.
    A parallel map's AUTOTUNE then means one call per core.

    No upstream issue found (checked: tensorflow 2.21.0).
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(2).with_options(options)


WORKAROUNDS = [
    Workaround(
        name="log_keras_model",
        package="mlflow",
        checked_version="3.17.2",
        upstream="https://github.com/mlflow/mlflow/issues/16183 (open; fix PR "
                 "https://github.com/mlflow/mlflow/pull/16300 closed unmerged)",
        why="mlflow.keras.log_model writes the input example before it creates the model "
            "directory (FileNotFoundError); compat.log_keras_model creates the directory first.",
        where_used="zoo/tracking.py Recorder.log_model",
    ),
    Workaround(
        name="DropoutRNNCell",
        package="keras",
        checked_version="3.15.1",
        upstream="private API, no issue (keras.src.layers.rnn.dropout_rnn_cell)",
        why="keras.layers.RNN resets the cached input-dropout mask of cells that subclass this "
            "private mixin; there is no public equivalent.",
        where_used="zoo/layers/vanilla.py VanillaRNNCell",
    ),
    Workaround(
        name="set_validation_steps_per_execution",
        package="keras",
        checked_version="3.15.1",
        upstream="private API (Model._eval_epoch_iterator); related feature request "
                 "https://github.com/keras-team/keras/issues/18070 (closed)",
        why="fit caches its validation iterator with training's steps_per_execution; evaluation "
            "is to run evaluation_steps_per_execution batches per call.",
        where_used="zoo/layers/monitor.py GradientMonitor.evaluate",
    ),
    Workaround(
        name="swapped_inner_loop",
        package="keras",
        checked_version="3.15.1",
        upstream="private API, no issue (keras.layers.RNN.inner_loop is not documented as public)",
        why="gradient_flow runs SimpleRNN/GRU/LSTM step by step with a watched bump on h_t by "
            "setting inner_loop on the layer instance for one call.",
        where_used="zoo/diagnostics.py gradient_flow",
    ),
    Workaround(
        name="VanillaRNN.inner_loop",
        package="keras",
        checked_version="3.15.1",
        upstream="private API, no issue (overrides keras.layers.RNN.inner_loop, not documented "
                 "as public)",
        why="VanillaRNN keeps keras.layers.RNN's call (states, masking, go_backwards, stateful) "
            "and replaces only its time loop with the compiled loop and hand-written BPTT.",
        where_used="zoo/layers/vanilla.py VanillaRNN.inner_loop (a subclass override; no compat "
                   "function)",
    ),
    Workaround(
        name="flatten_layers",
        package="keras",
        checked_version="3.15.1",
        upstream="private API, no issue found (Layer._flatten_layers)",
        why="Model.layers lists direct children only; recurrent_layers needs every RNN inside, "
            "both directions of a Bidirectional included.",
        where_used="zoo/diagnostics.py recurrent_layers",
    ),
    Workaround(
        name="import_tfds",
        package="tensorflow-datasets",
        checked_version="4.9.10",
        upstream="https://github.com/tensorflow/datasets/issues/11212 (open; fix PRs "
                 "https://github.com/tensorflow/datasets/pull/11227 and "
                 "https://github.com/tensorflow/datasets/pull/11234 open)",
        why="tensorflow-datasets imports importlib_resources but declares it for Python < 3.9 "
            "only; requirements.txt pins importlib_resources.",
        where_used="zoo/data/remote.py _tfds, upos_names",
    ),
    Workaround(
        name="untuned_prefetch",
        package="tensorflow",
        checked_version="2.21.0",
        upstream="no upstream issue found",
        why="with tf.data autotuning on, deleting an iterator read to its end by a tf.function "
            "waits for the autotuner's sleep (up to a minute) after every epoch and evaluation.",
        where_used="zoo/data/pipelines.py prefetched (every pipeline)",
    ),
    Workaround(
        name="get_file cache_dir created first",
        package="keras",
        checked_version="3.15.1",
        upstream="no issue found for a missing cache_dir; the same fallback, for paths that "
                 "os.access rejects: https://github.com/keras-team/keras/issues/17673 (open)",
        why="keras.utils.get_file falls back to /tmp/.keras when its cache_dir does not exist "
            "(os.access fails); ptb_files creates the cache directory first.",
        where_used="zoo/data/remote.py ptb_files",
    ),
    Workaround(
        name="quiet TensorFlow import",
        package="tensorflow",
        checked_version="2.21.0",
        upstream="https://github.com/tensorflow/tensorflow/issues/79029 (TF_CPP_MIN_LOG_LEVEL=3 "
                 "does not silence them; closed stale); the missing absl::InitializeLog() call: "
                 "https://github.com/tensorflow/tensorflow/pull/102212",
        why="importing TensorFlow writes 'WARNING: All log messages before absl::InitializeLog()', "
            "the oneDNN notice and 'Could not find cuda drivers' twice to stderr, whatever the "
            "environment says: 7 lines before any one-line error. The import runs with stderr "
            "pointed at /dev/null.",
        where_used="zoo/program.py _import_tensorflow_quietly (the programs only)",
    ),
    Workaround(
        name="MaskedMean",
        package="keras",
        checked_version="3.15.1",
        upstream="https://github.com/keras-team/keras/issues/18152 (closed as stale, filed "
                 "against Keras 2's layer; fix PR https://github.com/keras-team/keras/pull/18159 "
                 "closed unmerged; Keras 3.15.1 divides the same way)",
        why="GlobalAveragePooling1D gives 0/0 = nan for a sequence with no unmasked step (an "
            "SST-2 phrase of punctuation alone); MaskedMean gives zeros.",
        where_used="zoo/layers/features.py MaskedMean",
    ),
]
