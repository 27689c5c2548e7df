"""Sentiment: many-to-one classification of a text (IMDB, SST-2, a CSV/TSV of text and label).

Texts become ids through the run's Tokenizer (lowercased, punctuation stripped, the first
config.sequence_length words, 0 = padding); the last state or the mean of the states is
classified. Labels are whatever the data says (0/1, -1/1, pos/neg/neutral): class i is the i-th
of the training labels sorted (as numbers when all are integers), saved with the run as the
`labels` vocabulary. Two classes: accuracy and AUC of the second (1, pos); more: accuracy, and
per-class and macro F1 at the end. Export: `serving_default(texts)` -> probability, label.
"""

import re

import keras
import numpy as np
import tensorflow as tf

from zoo import plots, transfer
from zoo.data.files import read_table
from zoo.data.pipelines import Data, batches, examples_digest, prepared
from zoo.errors import UserError
from zoo.losses import PositiveClassAUC
from zoo.tasks.spec import Export, Report, TaskSpec, confusion, per_class
from zoo.text import Tokenizer, flat_tokens, token_shares, vocabulary_report


def tokenizer_of(config, dataset):
    return Tokenizer(level=dataset.level, standardize="lower_and_strip_punctuation", padding=True,
                     length=config.sequence_length, keep="first")


def label_vocabulary(splits):
    """The Tokenizer whose vocabulary is the training labels, sorted (as numbers when all are
    integers): class i is vocabulary[i]. A label of val or test that training never has, or a
    single label value, is a UserError."""
    values = {str(label) for _, label in splits["train"]}
    numbers = all(re.fullmatch(r"[+-]?\d+", value) for value in values)
    labels = sorted(values, key=int if numbers else str)
    if len(labels) < 2:
        raise UserError(f"The training data has one label value ({', '.join(labels) or 'none'}); a classifier "
                        "needs at least two.")
    for split in ("val", "test"):
        unseen = sorted({str(label) for _, label in splits[split]} - values)
        if unseen:
            raise UserError(f"Label {', '.join(unseen)} of the {split} split never occurs in training "
                            f"(training labels: {', '.join(labels)}); fix the data or its split.")
    return Tokenizer(padding=False, unknown=False, vocabulary=labels)


def tokenized(config, dataset, splits):
    """(tokenizer, labels Tokenizer, vocabulary report, {split: ids (ragged, cut to
    sequence_length)}, {split: label ids})."""
    texts = {split: [text for text, _ in examples] for split, examples in splits.items()}
    tokenizer = transfer.vocabulary(config, tokenizer_of(config, dataset), texts["train"])
    labels = label_vocabulary(splits)
    report = vocabulary_report(tokenizer, config.max_vocab, *token_shares(
        tokenizer, {split: flat_tokens(tokenizer.split(t)) for split, t in texts.items()}))
    ids = {split: tokenizer.ids(texts[split]) for split in splits}
    targets = {split: np.asarray([labels.id_of(str(y)) for _, y in examples], "int32")
               for split, examples in splits.items()}
    return tokenizer, labels, report, ids, targets


def classify(net, tokenizers, texts):
    """(probability, label) for texts [n] (TensorFlow ops): the predicted label (its value in the
    data, a string) and, with two classes, the probability of the second label (1, pos), else of
    the predicted one."""
    probabilities = keras.ops.softmax(net(tokenizers["tokens"].padded(texts), training=False))
    names = tf.constant(list(tokenizers["labels"].vocabulary))
    predicted = tf.argmax(probabilities, axis=-1)
    if len(tokenizers["labels"].vocabulary) == 2:
        return probabilities[:, 1], tf.gather(names, predicted)
    return tf.reduce_max(probabilities, axis=-1), tf.gather(names, predicted)


def endpoints(archive, net, config, tokenizers):
    archive.track(tokenizers["tokens"].lookup)

    def serve(texts):
        probability, label = classify(net, tokenizers, texts)
        return {"probability": probability, "label": label}

    archive.add_endpoint("serving_default", serve, [tf.TensorSpec([None], tf.string, name="texts")])


def predict(net, config, tokenizers, texts, k):
    probability, label = classify(net, tokenizers, tf.constant(list(texts), tf.string, shape=[len(texts)]))
    return [{"probability": float(p), "label": name.decode()} for p, name in zip(probability.numpy(), label.numpy())]


class Sentiment(TaskSpec):
    name = "sentiment"
    description = "many-to-one classifier: token ids [batch, time] -> class logits [batch, classes]"
    metric, inputs, many_to_one, padding = "accuracy", "tokens", True, True
    user_format = "a CSV/TSV file with a header and columns `text` and `label` (any values: 0/1, -1/1, pos/neg/...)"
    count_baseline_name = "the majority class of the training labels"
    export = Export(
        endpoints=endpoints, predict=predict,
        serving={"input": "texts", "params": {}, "columns": ["probability", "label"], "lengths": None,
                 "generate": None},
        examples=["a moving, beautifully acted film", "dull and far too long"],
        signatures={"serving_default": "texts string[n] -> probability float32[n] (two labels: of the second "
                                       "of the sorted training labels, 1 or pos; more: of the predicted one), "
                                       "label string[n] (the predicted label, as in the data)"},
        readme={"calls": '    model.signatures["serving_default"](texts=tf.constant(["a fine film"]))',
                "cut": "the first {sequence_length} words (as in training)", "columns": "probability, label",
                "outputs": "[batch, 2] classes", "empty": ""})

    def read(self, path):
        return read_table(path)

    def describe(self, examples, level):
        return f"{len(examples):,} texts"

    def data(self, config, dataset, splits, sha256):
        digest = examples_digest(splits)
        tokenizer, labels, report, ids, targets = prepared(config, digest, lambda: tokenized(config, dataset, splits))
        pipelines = {split: batches((ids[split], targets[split]), config, training=split == "train") for split in ids}
        return Data(**pipelines,
                    input_shape=(None,), vocab_size=len(tokenizer.vocabulary), num_outputs=len(labels.vocabulary),
                    train_tokens=int(ids["train"].row_lengths().numpy().sum()), digest=digest, fingerprint=sha256,
                    tokenizers={"tokens": tokenizer, "labels": labels}, report=report)

    def loss_and_metrics(self, config, outputs=2):
        """Accuracy; with two classes also the AUC of the second (outputs: the number of classes)."""
        auc = [PositiveClassAUC()] if outputs in (2, None) else []
        return (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                [keras.metrics.SparseCategoricalAccuracy(name="accuracy"), *auc])

    def count_baseline(self, data):
        """Test accuracy of always answering the most frequent training label."""
        train = np.concatenate([y for _, y in data.train.as_numpy_iterator()])
        test = np.concatenate([y for _, y in data.test.as_numpy_iterator()])
        return float(np.mean(test == np.bincount(train).argmax()))

    def report(self, net, data, config, dataset, name):
        """More than two classes: per-class F1, macro F1 and the confusion matrix of the test split."""
        labels = list(data.tokenizers["labels"].vocabulary)
        if len(labels) == 2:
            return Report()
        table, matrix = per_class(confusion(net, data.test, len(labels)), labels)
        return Report(metrics={"test_macro_f1": float(table["f1"].mean())},
                      texts={"per_class_f1.md": table.to_markdown(index=False, floatfmt=".4f")},
                      figures={"confusion_matrix.png": plots.confusion_matrix(matrix, table["class"].tolist(), name)})
