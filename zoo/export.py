"""A finished run, exported for use outside the zoo: Keras, a raw-text SavedModel, MLflow.

    path = export(run_id="...")            # or export(experiment="sentiment"): its best finished run
    predictions = predict(path / "saved_model", ["a fine film"])   # any of the three formats

exports/<experiment>/<run id>/ holds
- model.keras: the trained network (token ids -> logits), with vocabulary.json, tokenizer.json and
  config.json beside it;
- saved_model/: a TensorFlow SavedModel whose signatures take raw UTF-8 strings, the run's
  tokenizer inside the graph (its signatures: the task's spec, zoo/tasks);
- mlflow_model/: the same SavedModel as an MLflow pyfunc model (input: a `text` column), also
  registered in the MLflow model registry as `zoo-<experiment>`;
- README.md: how to load each.

Every path from text to ids goes through the run's zoo.text.Tokenizer, so model.keras (Python),
the SavedModel (graph) and the MLflow model read a text the same way. Inputs longer than the model
reads are cut by the tokenizer (the task's spec says where). An empty batch gives empty outputs.
"""

import json
import shutil
from pathlib import Path

import keras
import mlflow
import pandas as pd
import tensorflow as tf

import zoo.layers  # noqa: F401  (registers the zoo's layers for loading)
from zoo import serving, tasks, text, tracking
from zoo.errors import UserError
from zoo.serving import TOP_K

def best_run(experiment):
    """The id of the finished run of `experiment` with the best test metric that logged a model."""
    frame = tracking.runs(experiment)
    spec = tasks.get(experiment)
    metric = f"metrics.test_{spec.metric}"
    if not frame.empty and metric in frame:
        frame = frame[(frame["status"] == "FINISHED") & frame[metric].notna()]
    if frame.empty or metric not in frame:
        raise UserError(f"No finished {experiment!r} run with a model in {tracking.tracking_uri()}; "
                        f"train one first (e.g. make {experiment}-quick) or pass RUN=<run id>.")
    best = frame[metric].idxmin() if spec.lower_is_better else frame[metric].idxmax()
    return frame.loc[best, "run_id"]


SERVING_CODE = str(Path(serving.__file__))  # the MLflow model's code (models from code, no pickle)


def serving_archive(net, config, tokenizers):
    """A keras.export.ExportArchive of `net` with the task's raw-string endpoints, and
    `tokenize(texts)` -> ids [n, m] (0 pads), lengths [n]: the ids the run's tokenizer gives."""
    archive = keras.export.ExportArchive()
    archive.track(net)
    exporting(config["task"]).endpoints(archive, net, config, tokenizers)
    tokenizer = tokenizers["tokens"]

    def tokenize(texts):
        ids = tokenizer.ids(texts)
        return {"ids": ids.to_tensor(0), "lengths": tf.cast(ids.row_lengths(), tf.int32)}

    archive.add_endpoint("tokenize", tokenize, [tf.TensorSpec([None], tf.string, name="texts")])
    return archive


def exporting(task):
    """The Export of `task`'s spec; a UserError naming the tasks that export otherwise."""
    spec = tasks.get(task).export
    if spec is None:
        raise UserError(f"Export takes {', '.join(tasks.exportable())} runs; this run's task is {task!r}.")
    return spec


def model_config(task):
    """The MLflow model's model_config: what zoo.serving needs to know of the task."""
    return {"task": task, **exporting(task).serving}


README = """# Exported {task} model: run {run_id} of experiment {experiment}

Variant `{variant}`; test {metric}: {score}. Written by `python -m zoo export` ({exported}).

## model.keras (Keras)
    import keras, zoo.layers   # zoo.layers registers the zoo's layers (safe mode, no custom objects)
    net = keras.saving.load_model("model.keras")
Input: token ids int32 [batch, time] (`vocabulary.json`: "tokens"[i] is the word of id i);
output: logits ({output}). `config.json` is the run's configuration.

## saved_model/ (TensorFlow only; raw UTF-8 strings, the vocabulary inside)
    import tensorflow as tf
    model = tf.saved_model.load("saved_model")
{calls}
Signatures:
{signatures}
Long inputs are cut: {cut}. Empty texts read as no words{empty}; an empty batch gives empty outputs.

## mlflow_model/ (MLflow pyfunc; registered as `{registered}` version {version})
    mlflow.pyfunc.load_model("models:/{registered}/{version}").predict(pandas.DataFrame({{"text": [...]}}))
    make serve MODEL=models:/{registered}/{version}      # HTTP on 127.0.0.1:5001, POST /invocations
Input: a `text` column; output: one row per text ({columns}).

## From the command line
    python -m zoo predict --model exports/{experiment}/{run_id}/saved_model "{example}"
"""

def export(run_id=None, experiment=None, out_dir="exports"):
    """Writes the exports of `run_id` (or of the best finished run of `experiment`) and
    registers the MLflow model; returns the folder."""
    if run_id is None:
        if experiment is None:
            raise UserError(f"Export needs RUN=<MLflow run id> or EXPERIMENT=<{'|'.join(tasks.exportable())}>.")
        run_id = best_run(experiment)
    config, tokenizers, net = tracking.load_run(run_id)
    run = mlflow.MlflowClient(tracking.tracking_uri()).get_run(run_id)
    experiment = mlflow.get_experiment(run.info.experiment_id).name
    task = config["task"]
    spec = exporting(task)
    folder = Path(out_dir) / experiment / run_id
    staging = folder.with_name(folder.name + ".partial")  # nothing half-written under `folder`
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    net.save(staging / "model.keras")
    vocabularies, settings = text.saved(tokenizers)
    (staging / "vocabulary.json").write_text(json.dumps(vocabularies))
    (staging / "tokenizer.json").write_text(json.dumps(settings, indent=1))
    (staging / "config.json").write_text(json.dumps(config, indent=1))
    serving_archive(net, config, tokenizers).write_out(str(staging / "saved_model"), verbose=False)

    examples = pd.DataFrame({"text": spec.examples})
    served = model_config(task)
    params = serving.params_of(served)
    outputs = serving.predict(tf.saved_model.load(str(staging / "saved_model")), served, examples, params)
    signature = mlflow.models.infer_signature(examples, outputs, params=params or None)
    registered = f"zoo-{experiment}"
    pyfunc = dict(python_model=SERVING_CODE, artifacts={"saved_model": str(staging / "saved_model")},
                  model_config=served, signature=signature, input_example=examples,
                  pip_requirements=[f"{name}=={version}" for name, version in tracking.PACKAGES.items()
                                    if name != "python"] + ["pandas"])
    with mlflow.start_run(run_id=run_id):  # the training run keeps its status (FINISHED)
        info = mlflow.pyfunc.log_model(name="serving", registered_model_name=registered, **pyfunc)
    version = info.registered_model_version
    mlflow.pyfunc.save_model(staging / "mlflow_model", **pyfunc)
    metric = tasks.get(task).metric
    (staging / "README.md").write_text(README.format(
        task=task, run_id=run_id, experiment=experiment, variant=run.data.tags.get("variant", ""),
        metric=metric, score=f"{run.data.metrics.get(f'test_{metric}', float('nan')):.4g}",
        exported=pd.Timestamp.now().strftime("%Y-%m-%d %H:%M"), output=spec.readme["outputs"],
        calls=spec.readme["calls"], signatures="\n".join(f"- `{n}`: {text}" for n, text in spec.signatures.items()),
        cut=spec.readme["cut"].format(**config), empty=spec.readme["empty"], registered=registered,
        version=version, columns=spec.readme["columns"], example=spec.examples[0]))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def config_of(path):
    """The run configuration beside an exported model folder or file (config.json)."""
    for candidate in (path.parent / "config.json", path / "config.json", path.parent.parent / "config.json"):
        if candidate.is_file():
            return json.loads(candidate.read_text()), candidate.parent
    raise UserError(f"No config.json beside {path}; pass a model from an exports/<experiment>/<run>/ folder.")


def tokenizers_of(folder):
    """The run's tokenizers saved beside an exported model (tokenizer.json + vocabulary.json)."""
    return text.restored(json.loads((folder / "vocabulary.json").read_text()),
                         json.loads((folder / "tokenizer.json").read_text()))


def predict_pyfunc(uri, texts, k=TOP_K):
    """Predictions (one dict per text) of the MLflow model at `uri` (a folder or models:/...)."""
    mlflow.set_tracking_uri(tracking.tracking_uri())  # the registry of models:/, and no default store
    try:
        model = mlflow.pyfunc.load_model(str(uri))
    except (mlflow.exceptions.MlflowException, OSError) as error:
        raise UserError(f"Cannot load the MLflow model {uri} (registry {tracking.tracking_uri()}): "
                        f"{tracking.first_line(error)}. Export one first: make export EXPERIMENT=sentiment.") from None
    params = {"k": k} if "k" in model.model_config.get("params", {}) else None
    return model.predict(pd.DataFrame({"text": texts}), params=params).to_dict("records")


def readable(load, path):
    """load(path), or one line that says the file is damaged (a garbage or truncated model)."""
    try:
        return load(path)
    except Exception as error:  # Keras, zipfile, h5py and protobuf each raise their own
        raise UserError(f"{path} cannot be read as a model ({type(error).__name__}: "
                        f"{tracking.first_line(error)}); export it again with python -m zoo export.") from None


def predict(path, texts, k=TOP_K):
    """Predictions (one dict per text) of an exported model: model.keras, saved_model/ or
    mlflow_model/ (or a models:/ URI of the registry)."""
    if str(path).startswith("models:/"):
        return predict_pyfunc(path, texts, k)
    path = Path(path)
    if not path.exists():
        raise UserError(f"No model at {path}; export one first: make export EXPERIMENT=sentiment.")
    if (path / "MLmodel").is_file():
        return predict_pyfunc(path, texts, k)
    config, folder = config_of(path)
    if path.suffix == ".keras":
        return exporting(config["task"]).predict(readable(keras.saving.load_model, path), config,
                                                 tokenizers_of(folder), texts, k)
    if (path / "saved_model.pb").is_file():
        return serving.call_saved_model(readable(lambda p: tf.saved_model.load(str(p)), path),
                                        model_config(config["task"]), texts, k)
    raise UserError(f"{path} is not model.keras, a SavedModel folder or an MLflow model folder.")
