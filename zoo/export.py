"""A finished run, exported for use outside the zoo: Keras, a raw-text SavedModel, MLflow.

    path = export(run_id="...")            # or export(experiment="sentiment"): its best finished run
    predictions = predict(path / "saved_model", ["a fine film"])   # any of the three formats

exports/<experiment>/<run id>/ holds
- model.keras: the trained network (token ids -> logits), with vocabulary.json and config.json
  beside it;
- saved_model/: a TensorFlow SavedModel whose signatures take raw UTF-8 strings, the vocabulary
  inside the graph (signatures: SIGNATURES below);
- mlflow_model/: the same SavedModel as an MLflow pyfunc model (input: a `text` column), also
  registered in the MLflow model registry as `zoo-<experiment>`;
- README.md: how to load each.

Inputs longer than the model reads are cut: sentiment keeps the first config.sequence_length
words (as in training), tagging the first MAX_TOKENS words, a language model the last
CONTEXT tokens of a prompt. An empty text is read as no words (an empty prompt as `<eos>`);
an empty batch gives empty outputs.
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
from zoo import generate, tracking
from zoo import serving
from zoo.serving import TOP_K, call_saved_model, rows
from zoo.data.sentiment import BREAK
from zoo.errors import UserError
from zoo.models import TASK_METRIC

MAX_TOKENS = 512  # tagging: words read per sentence
CONTEXT = 200  # language model: tokens of the prompt read (the last ones)
SIGNATURES = {
    "sentiment": {"serving_default": "texts string[n] -> probability float32[n] (positive class), "
                                     "label int64[n] (0 negative, 1 positive)"},
    "pos": {"serving_default": "sentences string[n] (words split on whitespace) -> tags string[n, m], "
                               "tokens string[n, m] (m: the longest sentence; '' pads), lengths int32[n]"},
    "lm": {"serving_default": "prompts string[n], k int32 -> tokens string[n, k], probabilities "
                              "float32[n, k] (the k most likely next tokens)",
           "generate": "prompt string, length int32, temperature float32, seed int32 -> text string "
                       "(the prompt and `length` sampled tokens)"},
}


def best_run(experiment):
    """The id of the finished run of `experiment` with the best test metric that logged a model."""
    frame = tracking.runs(experiment)
    metric = f"metrics.test_{TASK_METRIC.get(experiment, 'loss')}"
    if not frame.empty and metric in frame:
        frame = frame[(frame["status"] == "FINISHED") & frame[metric].notna()]
    if frame.empty or metric not in frame:
        raise UserError(f"No finished {experiment!r} run with a model in {tracking.tracking_uri()}; "
                        f"train one first (e.g. make {experiment}-quick) or pass RUN=<run id>.")
    best = frame[metric].idxmin() if metric.endswith(("perplexity", "loss", "mse")) else frame[metric].idxmax()
    return frame.loc[best, "run_id"]


def _cut(ids, length):
    """Cut or zero-pad [n, m] ids to at least 1 and at most `length` steps (a recurrent layer
    needs one step, even for an empty batch or empty texts)."""
    ids = ids[:, :length]
    return tf.pad(ids, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(ids)[1])]])


def serving_archive(net, config, vocabularies):
    """A keras.export.ExportArchive of `net` with raw-string endpoints for config["task"]."""
    archive = keras.export.ExportArchive()
    archive.track(net)
    task, tokens = config["task"], vocabularies["tokens"]
    if task == "sentiment":
        vectorizer = keras.layers.TextVectorization(vocabulary=tokens,
                                                    output_sequence_length=config["sequence_length"])
        vectorizer(tf.constant([""]))  # builds it, so that the archive can track its table
        archive.track(vectorizer)

        def serve(texts):
            ids = vectorizer(tf.strings.regex_replace(texts, "(?i)" + BREAK.pattern, " "))
            probability = tf.nn.softmax(net(_cut(ids, config["sequence_length"]), training=False))[:, 1]
            return {"probability": probability, "label": tf.cast(probability > 0.5, tf.int64)}

        archive.add_endpoint("serving_default", serve, [tf.TensorSpec([None], tf.string, name="texts")])
    elif task == "pos":
        words = keras.layers.StringLookup(vocabulary=tokens, mask_token="", oov_token="[UNK]")
        words(tf.constant([""]))
        archive.track(words)
        tags = tf.constant(vocabularies["tags"])

        def serve(sentences):
            split = tf.strings.split(sentences)[:, :MAX_TOKENS]
            ids = _cut(tf.cast(words(split).to_tensor(), tf.int32), MAX_TOKENS)
            predicted = tf.gather(tags, tf.argmax(net(ids, training=False), axis=-1))
            real = tf.sequence_mask(split.row_lengths(), tf.shape(ids)[1])
            return {"tags": tf.where(real, predicted, ""), "tokens": split.to_tensor("", shape=tf.shape(ids)),
                    "lengths": tf.cast(split.row_lengths(), tf.int32)}

        archive.add_endpoint("serving_default", serve, [tf.TensorSpec([None], tf.string, name="sentences")])
    elif task == "lm":
        lookup = keras.layers.StringLookup(vocabulary=tokens, mask_token=None)
        lookup(tf.constant([""]))
        archive.track(lookup)
        vocabulary = tf.constant(tokens)
        characters = config["dataset"] == "tinyshakespeare"

        def prompt_ids(prompt):
            pieces = tf.strings.unicode_split(prompt, "UTF-8") if characters else tf.strings.split(prompt)
            ids = tf.cast(lookup(pieces), tf.int32)[-CONTEXT:]
            return tf.cond(tf.size(ids) > 0, lambda: ids, lambda: tf.cast(lookup([generate.EOS]), tf.int32))

        def last_logits(ids):
            return net(ids[None, -CONTEXT:], training=False)[0, -1]

        def serve(prompts, k):
            logits = tf.map_fn(lambda prompt: last_logits(prompt_ids(prompt)), prompts,
                               fn_output_signature=tf.TensorSpec([len(tokens)], tf.float32))
            top = tf.math.top_k(tf.nn.softmax(logits), k=tf.minimum(k, len(tokens)))
            return {"tokens": tf.gather(vocabulary, top.indices), "probabilities": top.values}

        def sample(prompt, length, temperature, seed):
            def step(i, ids):
                logits = last_logits(ids)[None] / temperature
                sampled = tf.random.stateless_categorical(logits, 1, seed=tf.stack([seed, i]), dtype=tf.int32)
                return i + 1, tf.concat([ids, sampled[0]], 0)

            _, ids = tf.while_loop(lambda i, _: i < length, step, (0, prompt_ids(prompt)),
                                   shape_invariants=(tf.TensorShape([]), tf.TensorShape([None])))
            pieces = tf.gather(vocabulary, ids)
            if characters:
                return {"text": tf.strings.reduce_join(pieces)}
            text = tf.strings.reduce_join(pieces, separator=" ")
            return {"text": tf.strings.regex_replace(text, generate.LINE_BREAK, "\n")}

        archive.add_endpoint("serving_default", serve, [tf.TensorSpec([None], tf.string, name="prompts"),
                                                        tf.TensorSpec([], tf.int32, name="k")])
        archive.add_endpoint("generate", sample, [tf.TensorSpec([], tf.string, name="prompt"),
                                                  tf.TensorSpec([], tf.int32, name="length"),
                                                  tf.TensorSpec([], tf.float32, name="temperature"),
                                                  tf.TensorSpec([], tf.int32, name="seed")])
    else:
        raise UserError(f"Export takes sentiment, pos or lm runs; this run's task is {task!r}.")
    return archive


SERVING_CODE = str(Path(serving.__file__))  # the MLflow model's code (models from code, no pickle)
EXAMPLES = {"sentiment": ["a moving, beautifully acted film", "dull and far too long"],
            "pos": ["The cat sat on the mat .", "I love it"], "lm": ["the company said", "in the"]}


def predict_keras(net, config, vocabularies, texts, k=TOP_K):
    """The same predictions as the SavedModel, from the Keras network and Python tokenization."""
    task, tokens = config["task"], vocabularies["tokens"]
    if task == "sentiment":
        vectorizer = keras.layers.TextVectorization(vocabulary=tokens,
                                                    output_sequence_length=config["sequence_length"])
        ids = vectorizer(tf.constant([BREAK.sub(" ", text) for text in texts], tf.string, shape=[len(texts)]))
        probability = keras.ops.convert_to_numpy(keras.ops.softmax(net(_cut(ids, ids.shape[1]))))[:, 1]
        return rows(task, {"probability": probability, "label": (probability > 0.5).astype("int64")})
    if task == "pos":
        index = {word: i for i, word in enumerate(tokens)}
        sentences = [text.split()[:MAX_TOKENS] for text in texts]
        width = max([1] + [len(words) for words in sentences])
        ids = np.zeros((len(texts), width), "int32")
        for row, words in enumerate(sentences):
            ids[row, :len(words)] = [index.get(word, 1) for word in words]
        predicted = np.asarray(net(ids)).argmax(-1) if len(texts) else ids
        return [{"tokens": words, "tags": [vocabularies["tags"][i] for i in predicted[row, :len(words)]]}
                for row, words in enumerate(sentences)]
    characters = config["dataset"] == "tinyshakespeare"
    result = []
    for text in texts:
        ids = generate.ids(generate.tokenize(text, characters), tokens)[-CONTEXT:] or generate.ids([generate.EOS], tokens)
        logits = np.asarray(net(np.array([ids], "int32")))[0, -1].astype("float64")
        probabilities = np.exp(generate.log_softmax(logits))
        top = np.argsort(-probabilities, kind="stable")[:k]
        result.append({"tokens": [tokens[i] for i in top], "probabilities": probabilities[top].tolist()})
    return result


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

CALLS = {"sentiment": '    model.signatures["serving_default"](texts=tf.constant(["a fine film"]))',
         "pos": '    model.signatures["serving_default"](sentences=tf.constant(["The cat sat ."]))',
         "lm": '    model.signatures["serving_default"](prompts=tf.constant(["the company said"]), k=tf.constant(5))\n'
               '    model.signatures["generate"](prompt=tf.constant("the"), length=tf.constant(20),\n'
               '                                 temperature=tf.constant(1.0), seed=tf.constant(0))'}
CUT = {"sentiment": "the first {sequence_length} words (as in training)",
       "pos": f"the first {MAX_TOKENS} words of a sentence", "lm": f"the last {CONTEXT} tokens of a prompt"}
COLUMNS = {"sentiment": "probability, label", "pos": "tokens, tags",
           "lm": "tokens, probabilities; with params {\"length\": n}: generated"}
OUTPUTS = {"sentiment": "[batch, 2] classes", "pos": "[batch, time, tags]", "lm": "[batch, time, vocabulary]"}


def export(run_id=None, experiment=None, out_dir="exports"):
    """Writes the exports of `run_id` (or of the best finished run of `experiment`) and
    registers the MLflow model; returns the folder."""
    if run_id is None:
        if experiment is None:
            raise UserError("Export needs RUN=<MLflow run id> or EXPERIMENT=<sentiment|pos|lm>.")
        run_id = best_run(experiment)
    config, vocabularies, net = tracking.load_run(run_id)
    run = mlflow.MlflowClient(tracking.tracking_uri()).get_run(run_id)
    experiment = mlflow.get_experiment(run.info.experiment_id).name
    task = config["task"]
    if task not in SIGNATURES:
        raise UserError(f"Export takes sentiment, pos or lm runs; run {run_id} is a {task!r} run.")
    folder = Path(out_dir) / experiment / run_id
    staging = folder.with_name(folder.name + ".partial")  # nothing half-written under `folder`
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    net.save(staging / "model.keras")
    (staging / "vocabulary.json").write_text(json.dumps(vocabularies))
    (staging / "config.json").write_text(json.dumps(config, indent=1))
    serving_archive(net, config, vocabularies).write_out(str(staging / "saved_model"), verbose=False)

    examples = pd.DataFrame({"text": EXAMPLES[task]})
    outputs = serving.predict(tf.saved_model.load(str(staging / "saved_model")), task, examples, serving.PARAMS)
    params = serving.PARAMS if task == "lm" else None
    signature = mlflow.models.infer_signature(examples, outputs, params=params)
    registered = f"zoo-{experiment}"
    pyfunc = dict(python_model=SERVING_CODE, artifacts={"saved_model": str(staging / "saved_model")},
                  model_config={"task": task}, signature=signature, input_example=examples,
                  pip_requirements=[f"{name}=={version}" for name, version in tracking.PACKAGES.items()
                                    if name != "python"] + ["pandas"])
    with mlflow.start_run(run_id=run_id):  # the training run keeps its status (FINISHED)
        info = mlflow.pyfunc.log_model(name="serving", registered_model_name=registered, **pyfunc)
    version = info.registered_model_version
    mlflow.pyfunc.save_model(staging / "mlflow_model", **pyfunc)
    metric = TASK_METRIC[task]
    (staging / "README.md").write_text(README.format(
        task=task, run_id=run_id, experiment=experiment, variant=run.data.tags.get("variant", ""),
        metric=metric, score=f"{run.data.metrics.get(f'test_{metric}', float('nan')):.4g}",
        exported=pd.Timestamp.now().strftime("%Y-%m-%d %H:%M"), output=OUTPUTS[task], calls=CALLS[task],
        signatures="\n".join(f"- `{name}`: {text}" for name, text in SIGNATURES[task].items()),
        cut=CUT[task].format(**config), empty=" (an empty prompt as `<eos>`)" if task == "lm" else "",
        registered=registered, version=version, columns=COLUMNS[task], example=EXAMPLES[task][0]))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def task_of(path):
    """The task of an exported model folder or file (from its config.json, or the MLflow model's)."""
    for candidate in (path.parent / "config.json", path / "config.json", path.parent.parent / "config.json"):
        if candidate.is_file():
            return json.loads(candidate.read_text())["task"]
    raise UserError(f"No config.json beside {path}; pass a model from an exports/<experiment>/<run>/ folder.")


def predict_pyfunc(uri, texts, k=TOP_K):
    """Predictions (one dict per text) of the MLflow model at `uri` (a folder or models:/...)."""
    mlflow.set_tracking_uri(tracking.tracking_uri())  # the registry of models:/, and no default store
    model = mlflow.pyfunc.load_model(str(uri))
    params = {"k": k} if model.model_config.get("task") == "lm" else None
    return model.predict(pd.DataFrame({"text": texts}), params=params).to_dict("records")


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
    task = task_of(path)
    if path.suffix == ".keras":
        config = json.loads((path.parent / "config.json").read_text())
        vocabularies = json.loads((path.parent / "vocabulary.json").read_text())
        return predict_keras(keras.saving.load_model(path), config, vocabularies, texts, k)
    if (path / "saved_model.pb").is_file():
        return call_saved_model(tf.saved_model.load(str(path)), task, texts, k)
    raise UserError(f"{path} is not model.keras, a SavedModel folder or an MLflow model folder.")
