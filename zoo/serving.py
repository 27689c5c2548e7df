"""An exported SavedModel (zoo.export) in use: its signatures' outputs as one row per text, and
the MLflow pyfunc model behind `mlflow models serve`.

Needs TensorFlow, pandas and MLflow only (not the zoo, not Keras): MLflow loads this file as
the model's code ("models from code"), with the SavedModel as its artifact `saved_model`.
"""

import warnings

import mlflow
import pandas as pd
import tensorflow as tf

# MLflow asks for type hints to validate inputs by them; this model validates by its signature
warnings.filterwarnings("ignore", message="Add type hints to the `predict` method", category=UserWarning)

TOP_K = 5  # language model: next tokens shown by predict and the MLflow model
PARAMS = {"k": TOP_K, "length": 0, "temperature": 1.0, "seed": 0}  # the MLflow model's params (lm)


def rows(task, outputs):
    """Signature outputs (numpy arrays, or nested lists) -> one dict per input text."""
    text = lambda values: [v.decode("utf-8") if isinstance(v, bytes) else v for v in values]  # noqa: E731
    if task == "sentiment":
        return [{"probability": float(p), "label": int(label)}
                for p, label in zip(outputs["probability"], outputs["label"])]
    if task == "pos":
        return [{"tokens": text(words[:n]), "tags": text(tags[:n])}
                for words, tags, n in zip(outputs["tokens"], outputs["tags"], outputs["lengths"])]
    return [{"tokens": text(words), "probabilities": [float(p) for p in probabilities]}
            for words, probabilities in zip(outputs["tokens"], outputs["probabilities"])]


def call_saved_model(loaded, task, texts, k=TOP_K):
    """Predictions of a loaded SavedModel's serving signature: one dict per text."""
    serve = loaded.signatures["serving_default"]
    texts = tf.constant(list(texts), tf.string, shape=[len(texts)])
    if task == "lm":
        outputs = serve(prompts=texts, k=tf.constant(k))
    else:
        outputs = serve(texts=texts) if task == "sentiment" else serve(sentences=texts)
    return rows(task, {key: value.numpy() for key, value in outputs.items()})


def predict(loaded, task, model_input, params=None):
    """A DataFrame with a `text` column (or a list of texts) -> a DataFrame, one row per text:
    sentiment: probability, label; pos: tokens, tags; lm: tokens, probabilities (the k most
    likely next tokens), and with params length > 0 also `generated`: the prompt and `length`
    tokens sampled at params temperature and seed."""
    texts = model_input["text"] if isinstance(model_input, pd.DataFrame) else model_input
    texts = ["" if text is None else str(text) for text in texts]
    params = {**PARAMS, **(params or {})}
    frame = pd.DataFrame(call_saved_model(loaded, task, texts, int(params["k"])),
                         columns=["probability", "label"] if task == "sentiment" else
                         ["tokens", "tags"] if task == "pos" else ["tokens", "probabilities"])
    if task == "lm" and int(params["length"]) > 0:
        frame["generated"] = [loaded.signatures["generate"](
            prompt=tf.constant(text), length=tf.constant(int(params["length"])),
            temperature=tf.constant(float(params["temperature"])),
            seed=tf.constant(int(params["seed"])))["text"].numpy().decode("utf-8") for text in texts]
    return frame


class ServingModel(mlflow.pyfunc.PythonModel):
    """The exported SavedModel as an MLflow pyfunc model; model_config: {"task": ...}."""

    def load_context(self, context):
        self.loaded = tf.saved_model.load(context.artifacts["saved_model"])
        self.task = context.model_config["task"]

    def predict(self, context, model_input, params=None):
        return predict(self.loaded, self.task, model_input, params)


mlflow.models.set_model(ServingModel())
