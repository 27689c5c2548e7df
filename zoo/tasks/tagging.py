"""Part-of-speech tagging: many-to-many, one tag per word (UD EWT, any CoNLL-U treebank).

Words and tags become ids through two Tokenizers of the training split (0 = padding, 1 =
unknown); sentences are padded per batch and never cut below MAX_TOKENS words. A run reports
per-tag precision, recall and F1, macro F1 and the confusion matrix. Export:
`serving_default(sentences)` (words split on whitespace) -> tags, tokens, lengths.
"""

import keras
import numpy as np
import tensorflow as tf

from zoo import plots, transfer
from zoo.data.files import read_conllu
from zoo.data.pipelines import Data, batches, examples_digest, prepared
from zoo.tasks.spec import Export, Report, TaskSpec, confusion, per_class
from zoo.text import Tokenizer, ragged_strings, token_shares, vocabulary_report

MAX_TOKENS = 512  # words read per sentence (EWT's longest has 159)
MAX_CHARACTERS = 20  # characters read per word, for character features (the first ones)


def character_ids(characters, words):
    """Word strings (a RaggedTensor [sentences, words]) -> character ids [sentences, words, chars]
    (ragged), through the characters Tokenizer (TensorFlow ops)."""
    flat = characters.ids(words.flat_values)
    return tf.RaggedTensor.from_row_lengths(flat, words.row_lengths())


def tokenized(config, dataset, splits):
    """(tokenizers {"tokens", "tags", "characters" with char_features}, vocabulary report,
    {split: (inputs, tag ids)}: word ids, with character ids beside them with char_features)."""
    words = transfer.vocabulary(config, Tokenizer(level=dataset.level, padding=True, length=MAX_TOKENS),
                                tokens=[w for w, _ in splits["train"]])
    tags = Tokenizer(padding=True, length=MAX_TOKENS).adapt(tokens=[t for _, t in splits["train"]])
    report = vocabulary_report(words, config.max_vocab, *token_shares(
        words, {split: [w for ws, _ in sentences for w in ws] for split, sentences in splits.items()}))
    tokenizers = {"tokens": words, "tags": tags}
    if config.char_features:  # every character seen in training words (0 pads, 1 unknown)
        tokenizers["characters"] = Tokenizer(level="character", padding=True, length=MAX_CHARACTERS).adapt(
            [w for ws, _ in splits["train"] for w in ws])

    def examples(sentences):
        strings = ragged_strings([w for w, _ in sentences])
        inputs = words.ids_of_tokens(strings)
        if config.char_features:
            inputs = (inputs, character_ids(tokenizers["characters"], strings))
        return inputs, tags.ids_of_tokens([t for _, t in sentences])

    return tokenizers, report, {split: examples(sentences) for split, sentences in splits.items()}


def tagging_report(net, data):
    """Per-tag precision, recall and F1 on data.test (padding left out), and the confusion matrix."""
    tags = data.vocabularies["tags"]
    matrix = confusion(net, data.test, len(tags), counted=lambda y: y > 0)
    table, matrix = per_class(matrix, tags)
    return table.rename(columns={"class": "tag"}), matrix


def tag(net, tokenizers, sentences):
    """(tokens [n, m] strings, '' pads; tags [n, m]; lengths [n]) for sentences [n] (TensorFlow ops)."""
    words, tags = tokenizers["tokens"], tokenizers["tags"]
    tokens = words.split(sentences)[:, :words.length]
    ids = words.ids_of_tokens(tokens).to_tensor()
    ids = tf.pad(ids, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(ids)[1])]])  # a recurrent layer needs a step
    inputs = ids
    if "characters" in tokenizers:  # the same width as ids, and at least one character
        chars = character_ids(tokenizers["characters"], tokens).to_tensor(0, shape=[None, None, MAX_CHARACTERS])
        chars = tf.pad(chars, [[0, 0], [0, tf.shape(ids)[1] - tf.shape(chars)[1]], [0, 0]])
        inputs = (ids, chars)
    predicted = tf.gather(tf.constant(list(tags.vocabulary)), tf.argmax(net(inputs, training=False), axis=-1))
    real = tf.sequence_mask(tokens.row_lengths(), tf.shape(ids)[1])
    return (tokens.to_tensor("", shape=tf.shape(ids)), tf.where(real, predicted, ""),
            tf.cast(tokens.row_lengths(), tf.int32))


def endpoints(archive, net, config, tokenizers):
    for tokenizer in tokenizers.values():
        archive.track(tokenizer.lookup)

    def serve(sentences):
        tokens, tags, lengths = tag(net, tokenizers, sentences)
        return {"tags": tags, "tokens": tokens, "lengths": lengths}

    archive.add_endpoint("serving_default", serve, [tf.TensorSpec([None], tf.string, name="sentences")])


def predict(net, config, tokenizers, texts, k):
    tokens, tags, lengths = tag(net, tokenizers, tf.constant(list(texts), tf.string, shape=[len(texts)]))
    text = lambda row, n: [v.decode("utf-8") for v in row[:n]]  # noqa: E731
    return [{"tokens": text(w, n), "tags": text(t, n)}
            for w, t, n in zip(tokens.numpy(), tags.numpy(), lengths.numpy())]


class Tagging(TaskSpec):
    name = "pos"
    description = "many-to-many tagger: token ids [batch, time] -> tag logits [batch, time, tags]"
    metric, inputs, many_to_one, padding, characters = "accuracy", "tokens", False, True, True
    user_format = "a CoNLL-U file (words and UPOS tags)"
    count_baseline_name = "each word's most frequent training tag (unseen words: the most frequent tag)"
    export = Export(
        endpoints=endpoints, predict=predict,
        serving={"input": "sentences", "params": {}, "columns": ["tokens", "tags"], "lengths": "lengths",
                 "generate": None},
        examples=["The cat sat on the mat .", "I love it"],
        signatures={"serving_default": "sentences string[n] (words split on whitespace) -> tags string[n, m], "
                                       "tokens string[n, m] (m: the longest sentence; '' pads), lengths int32[n]"},
        readme={"calls": '    model.signatures["serving_default"](sentences=tf.constant(["The cat sat ."]))',
                "cut": f"the first {MAX_TOKENS} words of a sentence", "columns": "tokens, tags",
                "outputs": "[batch, time, tags]", "empty": ""})

    def read(self, path):
        return read_conllu(path)

    def describe(self, examples, level):
        return f"{len(examples):,} sentences, {sum(len(w) for w, _ in examples):,} words"

    def data(self, config, dataset, splits, sha256):
        digest = examples_digest(splits)
        tokenizers, report, examples = prepared(config, digest, lambda: tokenized(config, dataset, splits))
        pipelines = {split: batches(examples[split], config, training=split == "train") for split in examples}
        return Data(**pipelines, input_shape=(None,),
                    vocab_size=len(tokenizers["tokens"].vocabulary), num_outputs=len(tokenizers["tags"].vocabulary),
                    train_tokens=sum(len(w) for w, _ in splits["train"]), digest=digest, fingerprint=sha256,
                    tokenizers=tokenizers, report=report)

    def loss_and_metrics(self, config, outputs=None):
        return (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                [keras.metrics.SparseCategoricalAccuracy(name="accuracy")])

    def count_baseline(self, data):
        """Test accuracy of tagging each word with its most frequent training tag (a word unseen in
        training, or unknown: the most frequent tag overall); padding left out."""
        counts = np.zeros((data.vocab_size, data.num_outputs), "int64")
        for x, y in data.train.as_numpy_iterator():
            x = x[0] if isinstance(x, tuple) else x  # the word ids (character ids, if any, follow)
            real = y > 0
            np.add.at(counts, (x[real], y[real]), 1)
        guess = counts.argmax(axis=1)
        guess[counts.sum(axis=1) == 0] = counts.sum(axis=0).argmax()
        right = total = 0
        for x, y in data.test.as_numpy_iterator():
            x = x[0] if isinstance(x, tuple) else x
            real = y > 0
            right += int((guess[x[real]] == y[real]).sum())
            total += int(real.sum())
        return right / max(total, 1)

    def report(self, net, data, config, dataset, name):
        table, matrix = tagging_report(net, data)
        return Report(metrics={"test_macro_f1": float(table["f1"].mean())},
                      texts={"per_tag_f1.md": table.to_markdown(index=False, floatfmt=".4f")},
                      figures={"confusion_matrix.png": plots.confusion_matrix(matrix, table["tag"].tolist(), name)})
