"""The Tokenizer: the one object that turns text into token ids, from training to serving.

    tokenizer = Tokenizer(level="word", standardize="lower_and_strip_punctuation", length=100)
    tokenizer = tokenizer.adapt(train_texts, max_tokens=20000)   # vocabulary from training text only
    tokenizer.ids(["a fine film"])          # ragged int32 ids [n, None], cut to `length`
    tokenizer.padded(["a fine film"])       # int32 [n, length], 0 = padding
    tokenizer.stream(text)                  # int32 [tokens]: a whole text, never cut (language model)
    Tokenizer.from_dict(tokenizer.to_dict())  # what a run saves as tokenizer.json

Every method is TensorFlow ops, so the same object works eagerly (training pipelines, `predict`
on model.keras, `score`, `generate`) and inside the exported SavedModel's graph.

Reserved ids: with `padding`, id 0 is padding ("") and id 1 unknown ("[UNK]"); without it (a
language model's stream), id 0 is unknown. `line_end` (a word-level language model's "<eos>") is
the token read for every line break. `standardize`: "none", or "lower_and_strip_punctuation"
(Keras TextVectorization's default, after HTML line breaks `<br />` become spaces: IMDB keeps them).
`length` cuts each text to its first (`keep="first"`) or last (`keep="last"`) `length` tokens.
"""

import collections
import re
from dataclasses import asdict, dataclass, field, replace

import keras
import tensorflow as tf

from zoo.errors import UserError

PADDING, UNKNOWN = "", "[UNK]"
BREAK = r"(?i)<br\s*/?>"  # HTML line breaks in IMDB reviews
# keras.layers.TextVectorization's default punctuation (its lower_and_strip_punctuation)
PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
LEVELS = ("word", "character")
STANDARDIZERS = ("none", "lower_and_strip_punctuation")
KEEPS = ("first", "last")


@dataclass(frozen=True)
class Tokenizer:
    """Text -> token ids, and back. See the module docstring; `vocabulary[i]` is the token of id i."""

    level: str = "word"  # word: split on whitespace | character: one token per Unicode character
    standardize: str = "none"  # none | lower_and_strip_punctuation
    padding: bool = True  # id 0 = padding, 1 = unknown; else 0 = unknown
    unknown: bool = True  # an id for unknown tokens (a label vocabulary has none: every label is known)
    line_end: str | None = None  # the token of a line break (a word-level language model's <eos>)
    length: int | None = None  # cut every text to this many tokens (None: never)
    keep: str = "first"  # first | last: which end of a long text is kept
    vocabulary: tuple = field(default=(), repr=False)

    def __post_init__(self):
        for name, value, valid in (("level", self.level, LEVELS), ("standardize", self.standardize, STANDARDIZERS),
                                   ("keep", self.keep, KEEPS)):
            if value not in valid:
                raise ValueError(f"Received an invalid value for argument `{name}`, expected one of "
                                 f"{', '.join(valid)}, got {value!r}.")
        object.__setattr__(self, "vocabulary", tuple(self.vocabulary))

    # --- ids -------------------------------------------------------------------------------
    @property
    def reserved(self):
        """The tokens before the learned ones: padding and unknown, or unknown alone (or none)."""
        return (PADDING,) * self.padding + (UNKNOWN,) * self.unknown

    @property
    def unknown_id(self):
        return len(self.reserved) - 1

    def id_of(self, token):
        """The id of one token (the unknown id if it is not in the vocabulary)."""
        return self._index.get(token, self.unknown_id)

    @property
    def _index(self):
        if "_index_cache" not in self.__dict__:
            object.__setattr__(self, "_index_cache", {token: i for i, token in enumerate(self.vocabulary)})
        return self.__dict__["_index_cache"]

    @property
    def lookup(self):
        """The keras.layers.StringLookup of this vocabulary (built once; an ExportArchive tracks it)."""
        if "_lookup" not in self.__dict__:
            if not self.vocabulary:
                raise ValueError("This Tokenizer has no vocabulary yet; call adapt(texts) first.")
            layer = keras.layers.StringLookup(vocabulary=list(self.vocabulary), mask_token=PADDING if self.padding
                                              else None, oov_token=UNKNOWN, num_oov_indices=int(self.unknown),
                                              output_mode="int")
            layer(tf.constant([""]))  # builds its table, so that an ExportArchive can track it
            object.__setattr__(self, "_lookup", layer)
        return self.__dict__["_lookup"]

    def split(self, texts):
        """Strings [n] -> tokens, a RaggedTensor [n, None] of strings (TensorFlow ops)."""
        texts = tf.convert_to_tensor(texts, tf.string)
        if self.standardize == "lower_and_strip_punctuation":
            texts = tf.strings.regex_replace(tf.strings.lower(tf.strings.regex_replace(texts, BREAK, " ")),
                                             PUNCTUATION, "")
        if self.line_end is not None:
            texts = tf.strings.regex_replace(texts, "\r?\n", f" {self.line_end} ")
        if self.level == "character":
            return tf.strings.unicode_split(texts, "UTF-8")
        return tf.strings.split(texts)

    def ids_of_tokens(self, tokens):
        """Tokens (a RaggedTensor [n, None], or a list of lists of strings) -> ragged int32 ids,
        each row cut to `length` tokens (the first or the last)."""
        if not isinstance(tokens, tf.RaggedTensor):
            tokens = ragged_strings(tokens)
        ids = tf.cast(self.lookup(tokens), tf.int32)
        if self.length is not None:
            ids = ids[:, :self.length] if self.keep == "first" else ids[:, -self.length:]
        return ids

    def ids(self, texts):
        """Strings [n] -> ragged int32 ids [n, None] (cut to `length`)."""
        return self.ids_of_tokens(self.split(texts))

    def padded(self, texts, width=None):
        """Strings [n] -> int32 ids [n, width] (default `length`; else the longest text), zero-padded
        at the end. Needs `padding` (id 0 is then no token)."""
        if not self.padding:
            raise ValueError("padded() needs a Tokenizer with padding=True (id 0 reserved for padding).")
        ids = self.ids(texts)
        width = width or self.length
        return ids.to_tensor(0, shape=None if width is None else [None, width])

    def stream(self, text):
        """One text -> int32 ids [tokens], never cut (a language model's training stream)."""
        return tf.cast(self.lookup(self.split(tf.constant([text]))[0]), tf.int32)

    # --- back to text ------------------------------------------------------------------------
    def tokens(self, ids):
        """[id, ...] -> [token, ...] (Python)."""
        return [self.vocabulary[i] for i in ids]

    def detokenize(self, ids):
        """[id, ...] -> text: characters joined, words joined by spaces, line_end as a line break."""
        tokens = self.tokens(ids)
        if self.level == "character":
            return "".join(tokens)
        text = " ".join(tokens)
        if self.line_end is not None:
            text = re.sub(f" ?{re.escape(self.line_end)} ?", "\n", text)
        return text

    def detokenize_graph(self, ids):
        """The same as `detokenize`, as TensorFlow ops: int ids [tokens] -> a scalar string."""
        pieces = tf.gather(tf.constant(list(self.vocabulary)), ids)
        if self.level == "character":
            return tf.strings.reduce_join(pieces)
        text = tf.strings.reduce_join(pieces, separator=" ")
        if self.line_end is not None:
            text = tf.strings.regex_replace(text, f" ?{re.escape(self.line_end)} ?", "\n")
        return text

    # --- vocabulary --------------------------------------------------------------------------
    def adapt(self, texts=None, max_tokens=None, tokens=None, counts=None):
        """A copy with the vocabulary of `texts` (strings), `tokens` (token lists) or `counts`
        ({token: count}, zoo.data.corpus.count): the reserved tokens, then the most frequent tokens
        (at most `max_tokens` ids in all, reserved included), ties by token, last first: the order
        of keras.layers.StringLookup.adapt (tests/test_text.py checks it against that layer)."""
        if counts is None:
            if tokens is None:
                tokens = self.split(tf.constant(list(texts), tf.string))
            elif not isinstance(tokens, tf.RaggedTensor):
                tokens = ragged_strings(tokens)
            counts = collections.Counter(tokens.flat_values.numpy().tolist())
            counts = {token.decode("utf-8"): n for token, n in counts.items()}
        reserved = (PADDING,) * self.padding + (UNKNOWN,)  # what StringLookup reserves, as adapt builds it
        learned = sorted(((n, token) for token, n in counts.items() if token not in reserved), reverse=True)
        if max_tokens:
            learned = learned[:max(max_tokens - len(reserved), 0)]
        return replace(self, vocabulary=reserved + tuple(token for _, token in learned))

    def adopt(self, other):
        """A copy whose vocabulary is this one's reserved tokens, then `other`'s learned tokens in
        its order: a token has the same meaning (and, but for the reserved ids, the same order)
        in both. What a run that starts from another (zoo.transfer) reads its text with."""
        return replace(self, vocabulary=self.reserved + tuple(other.vocabulary[len(other.reserved):]))

    def coverage(self, tokens):
        """(share of `tokens` in the vocabulary, number of tokens): tokens a flat list of strings."""
        counts = collections.Counter(tokens)
        total = sum(counts.values())
        known = sum(n for token, n in counts.items() if token in self._index and token not in self.reserved)
        return (known / total if total else 1.0), total

    def to_dict(self):
        return asdict(self) | {"vocabulary": list(self.vocabulary)}

    def settings(self):
        """to_dict() without the vocabulary: how this tokenizer reads text (tokenizer.json's entry)."""
        return {key: value for key, value in self.to_dict().items() if key != "vocabulary"}

    @classmethod
    def from_dict(cls, values):
        try:
            return cls(**values)
        except TypeError as error:
            raise UserError(f"Invalid tokenizer.json ({error}); export or train the run again.") from None


def saved(tokenizers):
    """{name: Tokenizer} -> (vocabularies, settings): what a run or an export writes as
    vocabulary.json ({name: [token per id]}) and tokenizer.json ({name: settings})."""
    vocabularies = {name: list(tokenizer.vocabulary) for name, tokenizer in tokenizers.items()}
    settings = {name: tokenizer.settings() for name, tokenizer in tokenizers.items()}
    return vocabularies, settings


def restored(vocabularies, settings):
    """The {name: Tokenizer} that `saved` wrote."""
    return {name: Tokenizer.from_dict({**values, "vocabulary": vocabularies[name]})
            for name, values in settings.items()}


def ragged_strings(lists):
    """[[str, ...], ...] -> a RaggedTensor [n, None] of strings (tf.ragged.constant takes quadratic
    time on long lists of lists: 40 s for EWT's 12,544 sentences)."""
    lists = list(lists)
    flat = tf.constant([token for tokens in lists for token in tokens], tf.string, shape=[sum(map(len, lists))])
    return tf.RaggedTensor.from_row_lengths(flat, tf.constant([len(tokens) for tokens in lists], tf.int64))


def token_shares(tokenizer, splits):
    """(distinct training tokens, {split: share of its tokens the vocabulary knows}) of splits
    {"train" | "val" | "test": a flat list of tokens (strings)}: what vocabulary_report takes."""
    return len(set(splits["train"])), {split: tokenizer.coverage(tokens)[0] for split, tokens in splits.items()}


def vocabulary_report(tokenizer, max_vocab, distinct, shares):
    """Prints one line and returns tags: the vocabulary kept (of `distinct` training tokens), the
    share of training tokens it covers, and the out-of-vocabulary rate of validation and test
    (shares: {split: share known}, token_shares)."""
    kept = len(tokenizer.vocabulary) - len(tokenizer.reserved)
    dropped = f" (max_vocab={max_vocab} dropped {distinct - kept:,})" if kept < distinct else ""
    kept_text = (f"{kept:,} of {distinct:,} distinct training tokens kept{dropped}" if kept <= distinct else
                 f"{kept:,} tokens (a vocabulary larger than the {distinct:,} distinct training tokens)")
    print(f"vocabulary: {kept_text}, covering "
          f"{shares['train']:.2%} of training tokens; out of vocabulary: validation "
          f"{1 - shares['val']:.2%}, test {1 - shares['test']:.2%}", flush=True)
    return {"vocabulary.kept": kept, "vocabulary.distinct_in_train": distinct,
            "vocabulary.train_coverage": round(shares["train"], 6),
            "vocabulary.val_oov_rate": round(1 - shares["val"], 6),
            "vocabulary.test_oov_rate": round(1 - shares["test"], 6)}


def flat_tokens(ragged):
    """A RaggedTensor of string tokens -> a flat list of Python strings."""
    return [token.decode("utf-8") for token in ragged.flat_values.numpy()]
