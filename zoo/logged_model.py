"""The models the zoo's runs log, made to load without the zoo: MLflow's Keras flavor plus the
code its Keras objects need, inside the model.

    mlflow.pyfunc.load_model("runs:/<run id>/model").predict(ids)      # MLflow, Keras, TensorFlow only

`save_model` is what `mlflow.models.Model.log(flavor=zoo.logged_model, ...)` calls: it saves as
`mlflow.keras.save_model` does, copies `CODE` (the zoo's layers, losses and what they import:
TensorFlow and Keras only) into the model's `code/` folder and makes this module the pyfunc
flavor's loader, which registers them before Keras reads the model. `mlflow.keras.load_model`
(the Keras object itself) needs them registered first: `sys.path.insert(0, "<model>/code")`,
then `import zoo.layers, zoo.losses`, or the zoo installed. tests/test_export.py loads a logged
model in a Python environment without the zoo.
"""

import shutil
from pathlib import Path

import zoo.layers  # noqa: F401  (registers the zoo's layers)
import zoo.losses  # noqa: F401  (and its losses and metrics)

ROOT = Path(__file__).resolve().parent
CODE = ("__init__.py", "compat.py", "config.py", "errors.py", "losses.py", "logged_model.py", "layers")


def save_model(model, path, mlflow_model=None, **kwargs):
    """mlflow.keras.save_model(model, path, mlflow_model, **kwargs), with code/zoo/ (CODE) and
    this module as the pyfunc loader."""
    import mlflow.keras
    from mlflow.models import Model

    mlflow_model = Model() if mlflow_model is None else mlflow_model
    mlflow.keras.save_model(model, path, mlflow_model=mlflow_model, **kwargs)
    code = Path(path) / "code" / "zoo"
    code.mkdir(parents=True)
    for name in CODE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, code / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, code / name)
    pyfunc = mlflow_model.flavors["python_function"]
    pyfunc.update(loader_module=__name__, code="code")
    mlflow_model.save(str(Path(path) / "MLmodel"))


def _load_pyfunc(path):
    """MLflow's pyfunc loader (the `loader_module` contract): the Keras flavor's, after the imports above."""
    from mlflow.keras.load import _load_pyfunc as load

    return load(path)
