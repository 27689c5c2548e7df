"""A finished run, exported for use outside the zoo: Keras, a raw-text SavedModel, MLflow, ONNX.

    path = export(run_id="...")            # or export(experiment="sentiment"): its best finished run
    path = export(run_id="...", formats=("onnx",))   # one format; the others already there stay
    predictions = predict(path / "saved_model", ["a fine film"])   # any of the four formats

exports/<experiment>/<run id>/ holds
- model.keras: the trained network (token ids -> logits);
- saved_model/: a TensorFlow SavedModel whose signatures take raw UTF-8 strings, the run's
  tokenizer inside the graph (its signatures: the task's spec, zoo/tasks);
- mlflow_model/: the same SavedModel as an MLflow pyfunc model (input: a `text` column), also
  registered in the MLflow model registry as `zoo-<experiment>`;
- model.onnx: the network for ONNX runtimes (token ids -> logits; tf2onnx), a VanillaRNN as the
  keras.layers.SimpleRNN with its weights (tf2onnx cannot read the layer's compiled loop);
- vocabulary.json, tokenizer.json and config.json (the run's tokenizer and configuration), and
  README.md: how to load each.

Every path from text to ids goes through the run's zoo.text.Tokenizer, so model.keras and
model.onnx (Python), the SavedModel (graph) and the MLflow model read a text the same way. Inputs
longer than the model reads are cut by the tokenizer (the task's spec says where). An empty batch
gives empty outputs.
"""

import json
import shutil
from pathlib import Path

import keras
import mlflow
import numpy as np
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
    for tag in ("baseline", "record_of"):  # the runs of zoo.baselines and those imported from records log no model
        if f"tags.{tag}" in frame:
            frame = frame[frame[f"tags.{tag}"].isna()]
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


def convertible(net):
    """`net` with each zoo.layers.VanillaRNN (alone or in a Bidirectional) replaced by its
    keras.layers.SimpleRNN twin with the same weights: tf2onnx cannot convert the layer's
    XLA-compiled loop, and the twin computes the same outputs (VanillaRNN.as_simple_rnn)."""
    from zoo.layers import VanillaRNN

    def twin(layer):
        if isinstance(layer, VanillaRNN):
            return layer.as_simple_rnn()
        if isinstance(layer, keras.layers.Bidirectional) and isinstance(layer.forward_layer, VanillaRNN):
            return keras.layers.Bidirectional(layer.forward_layer.as_simple_rnn(), merge_mode=layer.merge_mode,
                                              backward_layer=layer.backward_layer.as_simple_rnn(), name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    if not any(isinstance(getattr(layer, "forward_layer", layer), VanillaRNN) for layer in net.layers):
        return net
    copy = keras.models.clone_model(net, clone_function=twin)
    copy.set_weights(net.get_weights())
    return copy


ONNX_OPSET = 17


def write_onnx(net, path):
    """Writes `net` (stateless: token ids [batch, time], and character ids [batch, time, chars]
    where the tagger reads them) as an ONNX model whose inputs have the Keras inputs' names and
    whose one output is `logits`; returns the path."""
    import tf2onnx

    net = convertible(net)
    specs = [tf.TensorSpec([None] * len(tensor.shape), tensor.dtype, name=tensor.name) for tensor in net.inputs]
    call = tf.function(lambda *inputs: {"logits": net(list(inputs) if len(inputs) > 1 else inputs[0], training=False)})
    proto, _ = tf2onnx.convert.from_function(call, input_signature=specs, opset=ONNX_OPSET)
    (output,) = proto.graph.output
    for node in proto.graph.node:  # the output's tensor is named after the graph's last op
        node.output[:] = ["logits" if name == output.name else name for name in node.output]
    output.name = "logits"
    Path(path).write_bytes(proto.SerializeToString())
    return Path(path)


class OnnxNetwork:
    """An exported model.onnx, called like the Keras network it came from, on onnxruntime's CPU
    provider: net(ids [batch, time]) or net((ids, character ids [batch, time, chars])) -> logits
    (numpy float32: [batch, classes], or [batch, time, tags or vocabulary])."""

    def __init__(self, path):
        import onnxruntime

        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.names = [tensor.name for tensor in self.session.get_inputs()]

    def __call__(self, inputs, training=False):
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        feed = {name: np.asarray(value, dtype="int32") for name, value in zip(self.names, inputs)}
        return self.session.run(["logits"], feed)[0]


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
`config.json` is the run's configuration; `tokenizer.json` and `vocabulary.json` ("tokens"[i] is
the word of id i) its tokenizer, which every format below reads text with.
"""

SECTIONS = {  # format -> (its entry in the export folder, its README section)
    "keras": ("model.keras", """
## model.keras (Keras)
    import keras, zoo.layers   # zoo.layers registers the zoo's layers (safe mode, no custom objects)
    net = keras.saving.load_model("model.keras")
Input: token ids int32 [batch, time]; output: logits ({output}).
"""),
    "saved_model": ("saved_model", """
## saved_model/ (TensorFlow only; raw UTF-8 strings, the vocabulary inside)
    import tensorflow as tf
    model = tf.saved_model.load("saved_model")
{calls}
Signatures:
{signatures}
Long inputs are cut: {cut}. Empty texts read as no words{empty}; an empty batch gives empty outputs.
"""),
    "mlflow": ("mlflow_model", """
## mlflow_model/ (MLflow pyfunc; registered as `{registered}` version {version})
    mlflow.pyfunc.load_model("models:/{registered}/{version}").predict(pandas.DataFrame({{"text": [...]}}))
    make serve MODEL=models:/{registered}/{version}      # HTTP on 127.0.0.1:5001, POST /invocations
Input: a `text` column; output: one row per text ({columns}).
"""),
    "onnx": ("model.onnx", """
## model.onnx (ONNX opset {opset}: onnxruntime or any ONNX runtime; token ids in, logits out)
    import numpy as np, onnxruntime
    session = onnxruntime.InferenceSession("model.onnx")
    (logits,) = session.run(["logits"], {{{feed}}})
Inputs: {onnx_inputs}; output: `logits` float32 ({output}). Strings do not go in: text becomes ids
through the run's tokenizer (`tokenizer.json`, `vocabulary.json`; in Python
`zoo.export.tokenizers_of(folder)`), as `python -m zoo predict --model .../model.onnx` does.{twin}
"""),
}
FORMATS = tuple(SECTIONS)
COMMAND_LINE = """
## From the command line
    python -m zoo predict --model exports/{experiment}/{run_id}/{entry} "{example}"
"""
ONNX_INPUTS = {"tokens": "`tokens` int32 [batch, time] (0 pads)",
               "characters": "`characters` int32 [batch, time, characters] (each word's character ids, "
                             "0 pads; `vocabulary.json` \"characters\")"}


def formats_of(text):
    """The formats named by --format: `all` or a comma-separated list of FORMATS (mlflow writes
    saved_model too: the MLflow model wraps it)."""
    names = tuple(name.strip().lower() for name in text.split(",") if name.strip())
    names = FORMATS if names == ("all",) else names
    unknown = [name for name in names if name not in FORMATS]
    if unknown or not names:
        raise UserError(f"Received an invalid value for --format, expected all or a comma-separated list of "
                        f"{', '.join(FORMATS)}, got {text!r}.")
    return tuple(name for name in FORMATS if name in names or (name == "saved_model" and "mlflow" in names))


def sections(readme):
    """{entry: section text} of an export README (each section starts with `## <entry>`)."""
    parts = readme.split("\n## ")[1:]
    return {part.split()[0].rstrip("/"): "\n## " + part for part in parts if part.split()}


CHAMPION = "champion"


def write_mlflow(staging, run_id, experiment, task):
    """mlflow_model/ (wrapping staging/saved_model), also logged to the run and registered as
    zoo-<experiment>, with the alias `champion` when the run is the experiment's best (best_run);
    returns (registered name, version)."""
    spec = exporting(task)
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
    mlflow.pyfunc.save_model(staging / "mlflow_model", **pyfunc)
    if best_run(experiment) == run_id:  # the registry's alias for the experiment's best run: models:/NAME@champion
        mlflow.MlflowClient(tracking.tracking_uri()).set_registered_model_alias(
            registered, CHAMPION, info.registered_model_version)
    return registered, info.registered_model_version


def export(run_id=None, experiment=None, out_dir="exports", formats=FORMATS):
    """Writes `formats` (FORMATS: keras, saved_model, mlflow, onnx) of `run_id` (or of the best
    finished run of `experiment`) into exports/<experiment>/<run id>/, keeping the other formats
    an earlier export wrote there; returns the folder. mlflow registers the model."""
    if run_id is None:
        if experiment is None:
            raise UserError(f"Export needs RUN=<MLflow run id> or EXPERIMENT=<{'|'.join(tasks.exportable())}>.")
        run_id = best_run(experiment)
    formats = formats_of(",".join(formats))
    config, tokenizers, net = tracking.load_run(run_id)
    run = mlflow.MlflowClient(tracking.tracking_uri()).get_run(run_id)
    experiment = mlflow.get_experiment(run.info.experiment_id).name
    task = config["task"]
    spec = exporting(task)
    folder = Path(out_dir) / experiment / run_id
    staging = folder.with_name(folder.name + ".partial")  # nothing half-written under `folder`
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    # an earlier export's other formats stay, with their README sections (or new ones)
    kept = [name for name, (entry, _) in SECTIONS.items() if name not in formats and (folder / entry).exists()]
    earlier = sections((folder / "README.md").read_text()) if (folder / "README.md").is_file() else {}
    for name in kept:
        entry = SECTIONS[name][0]
        (shutil.copytree if (folder / entry).is_dir() else shutil.copy2)(folder / entry, staging / entry)
    vocabularies, settings = text.saved(tokenizers)
    (staging / "vocabulary.json").write_text(json.dumps(vocabularies))
    (staging / "tokenizer.json").write_text(json.dumps(settings, indent=1))
    (staging / "config.json").write_text(json.dumps(config, indent=1))
    if "keras" in formats:
        net.save(staging / "model.keras")
    if "saved_model" in formats:
        serving_archive(net, config, tokenizers).write_out(str(staging / "saved_model"), verbose=False)
    if "onnx" in formats:  # before the registry gets a version of an export that could still fail
        write_onnx(net, staging / "model.onnx")
    registered, version = f"zoo-{experiment}", "latest"  # a kept mlflow_model/ without its section
    if "mlflow" in formats:
        registered, version = write_mlflow(staging, run_id, experiment, task)

    metric = tasks.get(task).metric
    names = [tensor.name for tensor in net.inputs]
    values = dict(
        task=task, run_id=run_id, experiment=experiment, variant=run.data.tags.get("variant", ""),
        metric=metric, score=f"{run.data.metrics.get(f'test_{metric}', float('nan')):.4g}",
        exported=pd.Timestamp.now().strftime("%Y-%m-%d %H:%M"), output=spec.readme["outputs"],
        calls=spec.readme["calls"], signatures="\n".join(f"- `{n}`: {text}" for n, text in spec.signatures.items()),
        cut=spec.readme["cut"].format(**config), empty=spec.readme["empty"], registered=registered,
        version=version, columns=spec.readme["columns"], example=spec.examples[0], opset=ONNX_OPSET,
        feed=", ".join(f'"{name}": {name}' for name in names),
        onnx_inputs=" and ".join(ONNX_INPUTS.get(name, f"`{name}`") for name in names),
        twin=("\nIts vanilla RNN layers are exported as keras.layers.SimpleRNN with the same weights (the "
              "same outputs; tf2onnx cannot read zoo.layers.VanillaRNN's compiled loop).")
        if config["cell"] == "vanilla" else "")
    body = {entry: (earlier.get(entry) if name in kept else None) or template.format(**values)
            for name, (entry, template) in SECTIONS.items() if name in formats or name in kept}
    (staging / "README.md").write_text(README.format(**values) + "".join(body.values()).rstrip() + "\n" + COMMAND_LINE.format(
        entry=next(entry for entry in ("saved_model", "model.onnx", "model.keras", "mlflow_model") if entry in body),
        **values))
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
    """Predictions (one dict per text) of an exported model: model.keras, saved_model/,
    mlflow_model/ (or a models:/ URI of the registry) or model.onnx (onnxruntime)."""
    if str(path).startswith("models:/"):
        return predict_pyfunc(path, texts, k)
    path = Path(path)
    if not path.exists():
        raise UserError(f"No model at {path}; export one first: make export EXPERIMENT=sentiment.")
    if (path / "MLmodel").is_file():
        return predict_pyfunc(path, texts, k)
    config, folder = config_of(path)
    if path.suffix in (".keras", ".onnx"):
        load = keras.saving.load_model if path.suffix == ".keras" else OnnxNetwork
        return exporting(config["task"]).predict(readable(load, path), config, tokenizers_of(folder), texts, k)
    if (path / "saved_model.pb").is_file():
        return serving.call_saved_model(readable(lambda p: tf.saved_model.load(str(p)), path),
                                        model_config(config["task"]), texts, k)
    raise UserError(f"{path} is not model.keras, model.onnx, a SavedModel folder or an MLflow model folder.")
