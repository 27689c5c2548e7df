"""Sentiment: many-to-one classification of a text (IMDB, SST-2, a CSV/TSV of text and label).

Texts become ids through the run's Tokenizer (lowercased, punctuation stripped, the first
config.sequence_length words, 0 = padding); the last state or the mean of the states is
classified. Export: `serving_default(texts)` -> probability of class 1, label.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from zoo.data.files import read_table
from zoo.data.pipelines import from_arrays, hold_out, split_80_10_10
from zoo.losses import PositiveClassAUC
from zoo.tasks.spec import Export, TaskSpec
from zoo.text import Tokenizer, flat_tokens, vocabulary_report


def tokenizer_of(config, dataset):
    return Tokenizer(level=dataset.level, standardize="lower_and_strip_punctuation", padding=True,
                     length=config.sequence_length, keep="first")


def data(config, dataset, splits, sha256):
    texts = {split: [text for text, _ in examples] for split, examples in splits.items()}
    tokenizer = tokenizer_of(config, dataset).adapt(texts["train"], max_tokens=config.max_vocab)
    report = vocabulary_report(tokenizer, {split: flat_tokens(tokenizer.split(t)) for split, t in texts.items()},
                               config.max_vocab)
    arrays = {split: (tokenizer.padded(texts[split]).numpy(), np.asarray([y for _, y in examples], "int32"))
              for split, examples in splits.items()}
    classes = int(max(labels.max() for _, labels in arrays.values())) + 1
    built = from_arrays(arrays["train"], arrays["val"], arrays["test"], config.batch_size, config.seed,
                        input_shape=(None,), vocab_size=len(tokenizer.vocabulary), num_outputs=classes)
    return dataclasses.replace(built, fingerprint=sha256, tokenizers={"tokens": tokenizer}, report=report)


def majority_class(data):
    """Test accuracy of always answering the most frequent training label."""
    train = np.concatenate([y for _, y in data.train.as_numpy_iterator()])
    test = np.concatenate([y for _, y in data.test.as_numpy_iterator()])
    return float(np.mean(test == np.bincount(train).argmax()))


def loss_and_metrics(config):
    return (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            [keras.metrics.SparseCategoricalAccuracy(name="accuracy"), PositiveClassAUC()])


def probabilities(net, ids):
    """P(class 1) for ids [n, length]."""
    return keras.ops.softmax(net(ids, training=False))[:, 1]


def endpoints(archive, net, config, tokenizers):
    tokenizer = tokenizers["tokens"]
    archive.track(tokenizer.lookup)

    def serve(texts):
        probability = probabilities(net, tokenizer.padded(texts))
        return {"probability": probability, "label": tf.cast(probability > 0.5, tf.int64)}

    archive.add_endpoint("serving_default", serve, [tf.TensorSpec([None], tf.string, name="texts")])


def predict(net, config, tokenizers, texts, k):
    probability = keras.ops.convert_to_numpy(probabilities(net, tokenizers["tokens"].padded(list(texts))))
    return [{"probability": float(p), "label": int(p > 0.5)} for p in probability]


SPEC = TaskSpec(
    name="sentiment",
    description="many-to-one classifier: token ids [batch, time] -> class logits [batch, classes]",
    metric="accuracy", inputs="tokens", many_to_one=True, padding=True, data=data,
    loss_and_metrics=loss_and_metrics, read=read_table,
    user_format="a CSV/TSV file with a header and columns `text` and `label` (integers)",
    split=split_80_10_10,
    hold_out=hold_out, describe=lambda examples, level: f"{len(examples):,} texts",
    count_baseline=majority_class, count_baseline_name="the majority class of the training labels",
    export=Export(
        endpoints=endpoints, predict=predict,
        serving={"input": "texts", "params": {}, "columns": ["probability", "label"], "lengths": None,
                 "generate": None},
        examples=["a moving, beautifully acted film", "dull and far too long"],
        signatures={"serving_default": "texts string[n] -> probability float32[n] (class 1, positive), "
                                       "label int64[n] (0 negative, 1 positive)"},
        readme={"calls": '    model.signatures["serving_default"](texts=tf.constant(["a fine film"]))',
                "cut": "the first {sequence_length} words (as in training)", "columns": "probability, label",
                "outputs": "[batch, 2] classes", "empty": ""}),
)
