"""zoo.compat: every workaround is pinned to the versions it was checked against, and, where that
is cheap, is shown to be still needed and still working."""

import importlib.metadata
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import compat

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins():
    """{normalized distribution name: version} of the `name==version` lines of requirements.txt."""
    found = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[normalized(name)] = version.strip()
    return found


def test_table_covers_every_workaround():
    names = {w.name for w in compat.WORKAROUNDS}
    assert len(names) == len(compat.WORKAROUNDS), "duplicate names in compat.WORKAROUNDS"
    for function in ("log_keras_model", "DropoutRNNCell", "set_validation_steps_per_execution",
                     "swapped_inner_loop", "flatten_layers", "import_tfds", "untuned_prefetch"):
        assert function in names and hasattr(compat, function)
    for w in compat.WORKAROUNDS:
        assert w.upstream and w.why and w.where_used, w


@pytest.mark.parametrize("workaround", compat.WORKAROUNDS, ids=lambda w: w.name)
def test_checked_version_is_installed_and_pinned(workaround):
    """Fails when a pin changes: re-check the workaround, then update checked_version with the pin."""
    recheck = (f"re-check the workaround {workaround.name!r} (upstream: {workaround.upstream}; "
               f"used in {workaround.where_used}), then set its checked_version in zoo/compat.py")
    installed = importlib.metadata.version(workaround.package)
    assert installed == workaround.checked_version, (
        f"{workaround.package} {installed} is installed, the workaround was checked against "
        f"{workaround.checked_version}: {recheck}")
    pinned = pins().get(normalized(workaround.package))
    assert pinned == workaround.checked_version, (
        f"requirements.txt pins {workaround.package}=={pinned}, the workaround was checked against "
        f"{workaround.checked_version}: {recheck}")


def test_layers_import_neither_mlflow_nor_tfds():
    """zoo.layers imports zoo.compat: compat's heavy or optional imports must stay lazy."""
    code = ("import sys, zoo.layers, zoo.compat; "
            "print(sorted(m for m in ('mlflow', 'tensorflow_datasets', 'importlib_resources') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def tiny_model():
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(2, name="dense")(inputs))


def test_log_keras_model_logs_with_input_example_and_loads_back(store):
    import mlflow

    from zoo import tracking

    net = tiny_model()
    example = np.arange(6, dtype="float32").reshape(2, 3)
    with mlflow.start_run(experiment_id=tracking.experiment_id("compat")):
        info = compat.log_keras_model(net, name="model", input_example=example)
    assert str(store) in tracking.tracking_uri()
    loaded = mlflow.keras.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict(example, verbose=0), net.predict(example, verbose=0),
                               rtol=1e-6)


def test_mlflow_16183_still_needs_log_keras_model(store):
    """Plain mlflow.keras.log_model with an input example still fails; once this test fails,
    mlflow/mlflow#16183 is fixed: drop compat.log_keras_model and call mlflow.keras.log_model."""
    import mlflow

    from zoo import tracking

    example = np.zeros((1, 3), "float32")
    with mlflow.start_run(experiment_id=tracking.experiment_id("compat")):
        with pytest.raises(FileNotFoundError):
            mlflow.keras.log_model(tiny_model(), name="model", input_example=example)


def test_dropout_rnn_cell_is_what_keras_rnn_checks():
    assert issubclass(keras.layers.SimpleRNNCell, compat.DropoutRNNCell)
    assert hasattr(compat.DropoutRNNCell, "get_dropout_mask")
    assert hasattr(keras.layers.RNN, "_maybe_reset_dropout_masks")


def test_swapped_inner_loop_is_used_and_restored():
    layer = keras.layers.SimpleRNN(2)
    x = np.zeros((1, 4, 3), "float32")
    layer(x)
    calls = []

    def loop(*args, **kwargs):
        calls.append(1)
        return keras.layers.RNN.inner_loop(layer, *args, **kwargs)

    with compat.swapped_inner_loop(layer, loop):
        assert layer.inner_loop is loop
        layer(x)
    assert calls == [1], "keras.layers.RNN no longer runs its loop through self.inner_loop"
    assert "inner_loop" not in vars(layer)
    assert layer.inner_loop.__func__ is keras.layers.RNN.inner_loop

    with pytest.raises(RuntimeError, match="body"):
        with compat.swapped_inner_loop(layer, loop):
            raise RuntimeError("body")
    assert "inner_loop" not in vars(layer)
    assert layer.inner_loop.__func__ is keras.layers.RNN.inner_loop


def test_swapped_inner_loop_restores_an_instance_loop():
    layer = keras.layers.SimpleRNN(2)
    first, second = (lambda *a, **k: None), (lambda *a, **k: None)
    layer.inner_loop = first
    with compat.swapped_inner_loop(layer, second):
        assert layer.inner_loop is second
    assert layer.inner_loop is first


def test_flatten_layers_finds_nested_recurrent_layers():
    inputs = keras.Input((4, 3))
    bidirectional = keras.layers.Bidirectional(keras.layers.SimpleRNN(2, name="rnn"))
    model = keras.Model(inputs, keras.layers.Dense(1)(bidirectional(inputs)))
    found = compat.flatten_layers(model)
    assert bidirectional.forward_layer in found and bidirectional.backward_layer in found
    assert model not in found and model in compat.flatten_layers(model, include_self=True)


def test_set_validation_steps_per_execution_reaches_fit_cached_iterator():
    """Keras's fit still caches its validation iterator where compat looks for it."""
    seen = []

    class During(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(compat.set_validation_steps_per_execution(self.model, 1))

    model = tiny_model()
    model.compile("sgd", "mse")
    x, y = np.zeros((8, 3), "float32"), np.zeros((8, 2), "float32")
    assert not compat.set_validation_steps_per_execution(model, 1)
    model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=4, verbose=0, callbacks=[During()])
    assert seen == [True]


def test_tfds_still_does_not_declare_importlib_resources():
    """Once tensorflow-datasets declares importlib_resources for this Python (tensorflow/datasets
    #11212 fixed), compat.import_tfds and the importlib_resources pin can go."""
    from packaging.requirements import Requirement

    declared = [Requirement(r) for r in importlib.metadata.requires("tensorflow-datasets") or []]
    applies = [r for r in declared if normalized(r.name) == "importlib-resources"
               and (r.marker is None or r.marker.evaluate({"extra": ""}))]
    assert not applies


def test_import_tfds_imports_tfds():
    tfds = compat.import_tfds()
    assert tfds.__name__ == "tensorflow_datasets" and hasattr(tfds, "builder")


def test_untuned_prefetch_turns_autotune_off():
    dataset = compat.untuned_prefetch(tf.data.Dataset.range(5).batch(2))
    assert dataset.options().autotune.enabled is False
    assert [batch.tolist() for batch in dataset.as_numpy_iterator()] == [[0, 1], [2, 3], [4]]


def test_global_average_pooling_still_nan_for_fully_masked_sequence():
    """Once Keras gives a finite value here, zoo.models.MaskedMean could be Keras's layer again."""
    from zoo.models import MaskedMean

    x = np.ones((2, 3, 4), "float32")
    mask = np.array([[True, True, False], [False, False, False]])
    keras_mean = keras.ops.convert_to_numpy(keras.layers.GlobalAveragePooling1D()(x, mask=mask))
    ours = keras.ops.convert_to_numpy(MaskedMean()(x, mask=mask))
    assert np.isnan(keras_mean[1]).all()
    np.testing.assert_allclose(ours, [[1, 1, 1, 1], [0, 0, 0, 0]])


TYPE_HINTS_WARNING = "Add type hints to the `predict` method"
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def untyped_model_warnings():
    """The warnings MLflow gives when a PythonModel without type hints is defined."""
    import mlflow

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.onceregistry.clear()  # MLflow shows it "once" per process: show it here again

        class Untyped(mlflow.pyfunc.PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input

    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_mlflow_still_warns_about_predict_type_hints():
    """MLflow warns about a PythonModel's predict without type hints (zoo/serving.py has them)."""
    assert any(ANSI_COLOUR.sub("", message).startswith(TYPE_HINTS_WARNING)
               for message in untyped_model_warnings())


def test_importing_serving_gives_no_type_hints_warning():
    code = "import warnings; warnings.simplefilter('always'); import zoo.serving"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr[-2000:]
    assert TYPE_HINTS_WARNING not in result.stderr


def test_tensorflow_still_prints_before_its_logging_starts_and_the_zoo_hides_it():
    """When this first assertion fails, TensorFlow is quiet by itself: drop zoo/program.py's workaround."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    bare = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, text=True, env=env)
    assert "absl::InitializeLog" in bare.stderr
    error = subprocess.run([sys.executable, "-m", "zoo", "train", "--set", "units=-1"], capture_output=True,
                           text=True, env=env)
    assert error.returncode == 2
    assert error.stderr.splitlines() == ["error: Invalid units -1; expected an integer >= 1."]
