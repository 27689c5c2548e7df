"""An exported SavedModel (zoo.export) in use: its signatures' outputs as one row per text, and
the MLflow pyfunc model behind `mlflow models serve`.

Needs TensorFlow, pandas and MLflow only (not the zoo, not Keras): MLflow loads this file as
the model's code ("models from code"), with the SavedModel as its artifact `saved_model`.
"""

import mlflow
import pandas as pd
import tensorflow as tf

TOP_K = 5  # next tokens shown by predict and the MLflow model (a signature with a `k` input)
MAX_LENGTH = 10_000  # tokens one `generate` call may sample: zoo.generate.MAX_LENGTH (this file imports no zoo)
MAX_TEXTS = 1_000  # texts one request may hold (each a network call; with generation, MAX_LENGTH tokens in all)
# the MLflow model's params, by the signature input they fill: `k`, and those of a `generate` signature
PARAMS = {"k": TOP_K, "length": 0, "temperature": 1.0, "seed": 0}
GENERATE_PARAMS = ("length", "temperature", "seed")

# What the model_config of an exported model (zoo.export.model_config, from the task's spec) says:
#   input: the serving signature's input name; params: {pyfunc param: signature input};
#   columns: outputs, in order; lengths: the output that cuts per-token columns (or None);
#   generate: the signature that fills column `generated` when params length > 0 (or None).


def params_of(served):
    """The MLflow model's params (with defaults) for this model_config; {} if it takes none."""
    names = list(served["params"]) + (list(GENERATE_PARAMS) if served.get("generate") else [])
    return {name: PARAMS[name] for name in names}


def _python(value):
    """A numpy value or array -> Python (bytes decoded)."""
    value = value.tolist() if hasattr(value, "tolist") else value
    if isinstance(value, list):
        return [v.decode("utf-8") if isinstance(v, bytes) else v for v in value]
    return value.decode("utf-8") if isinstance(value, bytes) else value


def rows(served, outputs):
    """Signature outputs (numpy arrays) -> one dict per input text, with the model_config's columns."""
    lengths = outputs[served["lengths"]] if served.get("lengths") else None
    result = []
    for i in range(len(outputs[served["columns"][0]])):
        row = {}
        for column in served["columns"]:
            value = _python(outputs[column][i])
            row[column] = value[:int(lengths[i])] if lengths is not None else value
        result.append(row)
    return result


def call_saved_model(loaded, served, texts, k=TOP_K):
    """Predictions of a loaded SavedModel's serving signature: one dict per text."""
    serve = loaded.signatures["serving_default"]
    inputs = {served["input"]: tf.constant(list(texts), tf.string, shape=[len(texts)])}
    inputs.update({name: tf.constant(int(k)) for name in served["params"].values()})
    outputs = serve(**inputs)
    return rows(served, {key: value.numpy() for key, value in outputs.items()})


def predict(loaded, served, model_input, params=None):
    """A DataFrame with a `text` column (or a list of texts) -> a DataFrame, one row per text,
    with the model_config's columns; where the model has a `generate` signature and params
    length > 0, also `generated`: the prompt and `length` tokens sampled at params temperature
    and seed."""
    texts = model_input["text"] if isinstance(model_input, pd.DataFrame) else model_input
    texts = ["" if text is None else str(text) for text in texts]
    params, generates = {**PARAMS, **(params or {})}, bool(served.get("generate"))
    check(len(texts), params, generates)
    frame = pd.DataFrame(call_saved_model(loaded, served, texts, int(params["k"])), columns=served["columns"])
    if generates and int(params["length"]) > 0:
        generate = loaded.signatures[served["generate"]]
        frame["generated"] = [generate(prompt=tf.constant(text), length=tf.constant(int(params["length"])),
                                       temperature=tf.constant(float(params["temperature"])),
                                       seed=tf.constant(int(params["seed"])))["text"].numpy().decode("utf-8")
                              for text in texts]
    return frame


def check(texts, params, generates=False):
    """Refuses a request whose work has no bound (an MlflowException: `mlflow models serve` answers
    400 with its message): more than MAX_TEXTS texts, k below 1, length outside 0..MAX_LENGTH, a
    temperature that is not positive, or (a model that generates) more than MAX_LENGTH tokens to
    sample in all (texts x length: one request samples no more than one command-line generate)."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    problems = []
    if texts > MAX_TEXTS:
        problems.append(f"{texts:,} texts (at most {MAX_TEXTS:,} a request; send them in parts)")
    if int(params["k"]) < 1:
        problems.append(f"k={params['k']} (at least 1)")
    if not 0 <= int(params["length"]) <= MAX_LENGTH:
        problems.append(f"length={params['length']} (0 to {MAX_LENGTH:,})")
    if not float(params["temperature"]) > 0:
        problems.append(f"temperature={params['temperature']} (greater than 0)")
    if generates and 0 <= int(params["length"]) <= MAX_LENGTH and texts * int(params["length"]) > MAX_LENGTH:
        problems.append(f"{texts:,} texts x length {params['length']} = {texts * int(params['length']):,} tokens to "
                        f"sample (at most {MAX_LENGTH:,} a request; send fewer texts or a shorter length)")
    if problems:
        raise MlflowException(f"Invalid request: {'; '.join(problems)}.", error_code=INVALID_PARAMETER_VALUE)


class ServingModel(mlflow.pyfunc.PythonModel):
    """The exported SavedModel as an MLflow pyfunc model; model_config: what rows() reads."""

    def load_context(self, context):
        self.loaded = tf.saved_model.load(context.artifacts["saved_model"])
        self.served = context.model_config

    # the type hint (a DataFrame: MLflow validates no further) keeps MLflow 3 from warning that there is none
    def predict(self, context, model_input: pd.DataFrame, params=None):
        return predict(self.loaded, self.served, model_input, params)


mlflow.models.set_model(ServingModel())
