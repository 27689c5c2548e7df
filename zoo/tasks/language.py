"""Language modelling: many-to-many next-token prediction, then generation (PTB, Tiny Shakespeare,
WikiText-style token files, any text).

Each split is one text; the run's Tokenizer (words with `<eos>` for every line break, or
characters, per the dataset's level; id 0 = unknown) turns it into one stream of ids. Batches
follow Zaremba et al. (2014): the stream is cut into batch_size contiguous rows, and batch k holds
the k-th window of sequence_length steps of every row (targets: the same window shifted by one),
so a stateful model carries its state from window to window; never shuffled; the last partial
window of each row is dropped; `limit` keeps the first windows, cutting each split's text to
the first limit x batch_size x sequence_length tokens before it is tokenized (the vocabulary too
comes from that part); `reverse` reads the stream backwards.
The text is never held whole: it is tokenized in blocks into a cache of ids on disk, once per text
and vocabulary (zoo.data.corpus), and the windows are read from there. A run logs samples.txt; `score`
and `generate` use the run. Export: `serving_default(prompts, k)` and `generate(prompt, length,
temperature, seed)`.
"""

import time

import numpy as np
import tensorflow as tf

from zoo import generate, transfer
from zoo.data import corpus
from zoo.data.corpus import Text
from zoo.data.pipelines import Data, prefetched
from zoo.errors import UserError
from zoo.losses import SparseCrossEntropy
from zoo.tasks.spec import Export, Report, TaskSpec
from zoo.text import Tokenizer, vocabulary_report

CONTEXT = 200  # tokens of a prompt read (the last ones)


def tokenizer_of(level, standardize="none"):
    return Tokenizer(level=level, standardize=standardize, padding=False,
                     line_end=generate.EOS if level == "word" else None, length=CONTEXT, keep="last")


def cut(text, share):
    """The index where the first `share` of `text` (a str, or a zoo.data.corpus.Text of a file:
    bytes) ends, moved on to the next whitespace (so that no word is cut in two)."""
    if isinstance(text, Text):
        return text.cut(share)
    at = int(len(text) * share)
    while at < len(text) and not text[at].isspace():
        at += 1
    return at


def split(text, seed):
    """One text -> the first 90% for training, the next 5% for validation, the last 5% for test,
    in order (cut at whitespace); `seed` is not used: the split of a stream never moves."""
    first, second = cut(text, 0.9), cut(text, 0.95)
    return {"train": text[:first], "val": text[first:second], "test": text[second:]}


def prepare(config, splits, level, standardize="none"):
    """(tokenizer with its vocabulary, the training text's token counts, corpus.Prepared) of
    {split: text}: the training tokens counted, the vocabulary adapted to them (or init_from's),
    every split's ids from the corpus cache. The runs and the count baselines read the same ids.
    With a `limit`, each split is first cut to the text of its first `limit` windows (corpus.prefix):
    only that much is read, counted and tokenized."""
    tokenizer = tokenizer_of(level, standardize)
    if config.limit:  # batch_size rows of limit windows and the target after the last
        needed = config.batch_size * (config.limit * config.sequence_length + 1)
        splits = {split: corpus.prefix(text, tokenizer, needed) for split, text in splits.items()}
    counts = corpus.count(splits["train"], tokenizer)
    tokenizer = transfer.vocabulary(config, tokenizer, counts=counts)
    return tokenizer, counts, corpus.token_ids(splits, tokenizer)


def windows(ids, config):
    """ids [tokens] (a memory map) -> (tf.data of (inputs, targets) int32 [batch_size,
    sequence_length], the tokens of one pass): the stream in batch_size contiguous rows, batch k
    the k-th window of every row, targets one token on; read from `ids` a batch at a time."""
    length, rows = config.sequence_length, config.batch_size
    if config.reverse:  # a backward language model: the same windows over the reversed stream
        ids = ids[::-1]
    per_row = len(ids) // rows
    if per_row <= length:
        raise UserError(f"Too little text for batch_size={rows} and sequence_length={length} "
                        f"({len(ids):,} tokens); lower them or give more text.")
    count = min((per_row - 1) // length, config.limit or per_row)
    starts = np.arange(rows) * per_row

    def window(k):
        block = np.stack([ids[at:at + length + 1] for at in starts + k * length]).astype("int32")
        return block[:, :-1], block[:, 1:]

    def read(k):
        x, y = tf.numpy_function(window, [k], (tf.int32, tf.int32), stateful=False)
        return tf.ensure_shape(x, [rows, length]), tf.ensure_shape(y, [rows, length])

    return prefetched(tf.data.Dataset.range(count).map(read)), count * rows * length


def endpoints(archive, net, config, tokenizers):
    tokenizer = tokenizers["tokens"]
    archive.track(tokenizer.lookup)
    size = len(tokenizer.vocabulary)

    def prompt_ids(prompt):
        ids = tokenizer.ids(prompt[None])[0]
        return tf.cond(tf.size(ids) > 0, lambda: ids, lambda: tf.constant([generate.start_id(tokenizer)]))

    def last_logits(ids):
        return net(ids[None, -CONTEXT:], training=False)[0, -1]

    def serve(prompts, k):
        logits = tf.map_fn(lambda prompt: last_logits(prompt_ids(prompt)), prompts,
                           fn_output_signature=tf.TensorSpec([size], tf.float32))
        top = tf.math.top_k(tf.nn.softmax(logits), k=tf.minimum(k, size))
        return {"tokens": tf.gather(tf.constant(list(tokenizer.vocabulary)), top.indices),
                "probabilities": top.values}

    def sample(prompt, length, temperature, seed):
        # no request keeps it busy: length from 0 to zoo.generate.MAX_LENGTH, temperature > 0
        bound = f"generate: length must be from 0 to {generate.MAX_LENGTH}"
        checks = [tf.debugging.assert_less_equal(length, generate.MAX_LENGTH, message=bound),
                  tf.debugging.assert_greater_equal(length, 0, message=bound),
                  tf.debugging.assert_positive(temperature, message="generate: temperature must be > 0")]
        with tf.control_dependencies(checks):
            length = tf.identity(length)

        def step(i, ids):
            logits = last_logits(ids)[None] / temperature
            sampled = tf.random.stateless_categorical(logits, 1, seed=tf.stack([seed, i]), dtype=tf.int32)
            return i + 1, tf.concat([ids, sampled[0]], 0)

        _, ids = tf.while_loop(lambda i, _: i < length, step, (0, prompt_ids(prompt)),
                               shape_invariants=(tf.TensorShape([]), tf.TensorShape([None])))
        return {"text": tokenizer.detokenize_graph(ids)}

    archive.add_endpoint("serving_default", serve, [tf.TensorSpec([None], tf.string, name="prompts"),
                                                    tf.TensorSpec([], tf.int32, name="k")])
    archive.add_endpoint("generate", sample, [tf.TensorSpec([], tf.string, name="prompt"),
                                              tf.TensorSpec([], tf.int32, name="length"),
                                              tf.TensorSpec([], tf.float32, name="temperature"),
                                              tf.TensorSpec([], tf.int32, name="seed")])


def predict(net, config, tokenizers, texts, k):
    tokenizer = tokenizers["tokens"]
    result = []
    for text in texts:
        ids = generate.prompt_ids(tokenizer, text)
        logits = np.asarray(net(np.array([ids], "int32")))[0, -1].astype("float64")
        probabilities = np.exp(generate.log_softmax(logits))
        top = np.argsort(-probabilities, kind="stable")[:k]
        result.append({"tokens": tokenizer.tokens(top), "probabilities": probabilities[top].tolist()})
    return result


class LanguageModel(TaskSpec):
    name = "lm"
    description = "language model: token ids [batch, time] -> next-token logits [batch, time, vocabulary]"
    metric, inputs, many_to_one = "perplexity", "tokens", False
    stateful = causal = perplexity = language_model = True
    user_format = "a UTF-8 text file"
    count_baseline_name = "an add-one unigram model of the training tokens"
    export = Export(
        endpoints=endpoints, predict=predict,
        serving={"input": "prompts", "params": {"k": "k"}, "columns": ["tokens", "probabilities"],
                 "lengths": None, "generate": "generate"},
        examples=["the company said", "in the"],
        signatures={"serving_default": "prompts string[n], k int32 -> tokens string[n, k], probabilities "
                                       "float32[n, k] (the k most likely next tokens)",
                    "generate": "prompt string, length int32, temperature float32, seed int32 -> text string "
                                "(the prompt and `length` sampled tokens)"},
        readme={"calls": '    model.signatures["serving_default"](prompts=tf.constant(["the company said"]), '
                         'k=tf.constant(5))\n'
                         '    model.signatures["generate"](prompt=tf.constant("the"), length=tf.constant(20),\n'
                         '                                 temperature=tf.constant(1.0), seed=tf.constant(0))',
                "cut": f"the last {CONTEXT} tokens of a prompt", "columns":
                    'tokens, probabilities; with params {"length": n}: generated',
                "outputs": "[batch, time, vocabulary]", "empty": " (an empty prompt as `<eos>`)"})

    def read(self, path):
        return Text.file(path)

    def split(self, text, split_seed):
        return split(text, split_seed)

    def hold_out(self, text, seed):
        """(the first 90% of a training text, its last 10%): validation when there is no val file."""
        at = cut(text, 0.9)
        return text[:at], text[at:]

    def describe(self, text, level):
        """What loading prints of a split before reading it (the tokens come after: data)."""
        return f"{len(text):,} {'bytes' if isinstance(text, Text) else 'characters'}"

    def loss_and_metrics(self, config, outputs=None):
        return SparseCrossEntropy(), []  # the perplexity: zoo.layers.GradientMonitor

    def data(self, config, dataset, splits, sha256):
        """Data of {split: text (a str, or a zoo.data.corpus.Text not read yet)}: the training text's
        tokens counted and every split's ids written once to the corpus cache (zoo.data.corpus), the
        windows read from those memory-mapped ids batch by batch."""
        start = time.perf_counter()
        tokenizer, counts, prepared = prepare(config, splits, dataset.level, dataset.standardize)
        print("token ids: " + " / ".join(f"{split} {len(ids):,}" for split, ids in prepared.ids.items()) +
              (" (from the cache)" if prepared.cached else
               f" (counted and written to the cache in {time.perf_counter() - start:.1f} s)"), flush=True)
        report = vocabulary_report(tokenizer, config.max_vocab, len(counts),
                                   {split: prepared.coverage(split) for split in prepared.ids})
        (train, train_tokens), (val, _), (test, _) = (windows(prepared.ids[split], config)
                                                      for split in ("train", "val", "test"))
        return Data(train=train, val=val, test=test, input_shape=(config.sequence_length,),
                    vocab_size=len(tokenizer.vocabulary), num_outputs=len(tokenizer.vocabulary),
                    train_tokens=train_tokens,
                    fingerprint=sha256, tokenizers={"tokens": tokenizer}, report=report,
                    counts={split: {"tokens": len(ids)} for split, ids in prepared.ids.items()})

    def count_baseline(self, data):
        """Test perplexity of an add-one unigram model of the training windows' tokens (every id of
        the vocabulary, [UNK] included, gets one extra count)."""
        counts = np.zeros(data.vocab_size, "float64")
        for x, _ in data.train.as_numpy_iterator():
            counts += np.bincount(x.ravel(), minlength=data.vocab_size)
        log_p = np.log(counts + 1) - np.log(counts.sum() + data.vocab_size)
        total = count = 0.0
        for _, y in data.test.as_numpy_iterator():
            total += log_p[y.ravel()].sum()
            count += y.size
        return float(np.exp(-total / count))

    def report(self, net, data, config, dataset, name):
        """Samples at temperatures 0.5, 1.0 and 1.5 from the dataset's prompts (net: stateless); none
        from a backward language model (reverse=true), which continues a text towards its start."""
        if config.reverse:
            return Report()
        return Report(texts={"samples.txt": generate.samples(net, data.tokenizers["tokens"], dataset.prompts)})
