"""The Tokenizer: Keras's own vocabularies and ids, reserved ids, levels, cuts. That it is the
one path from text to ids in training and serving: tests/test_export.py."""

import json

import keras
import numpy as np
import pytest

from test_data import needs_data, user_files
from zoo.data.files import data_dir, read_table
from zoo.text import Tokenizer


def test_sentiment_settings_give_keras_text_vectorizations_vocabulary_and_ids(tmp_path):
    reviews, _, _ = user_files(tmp_path)
    texts = [text for text, _ in read_table(reviews)]
    ours = Tokenizer(standardize="lower_and_strip_punctuation", length=6).adapt(texts, max_tokens=8)
    theirs = keras.layers.TextVectorization(max_tokens=8, output_sequence_length=6)
    theirs.adapt(texts)
    assert list(ours.vocabulary) == theirs.get_vocabulary()
    np.testing.assert_array_equal(ours.padded(texts).numpy(), theirs(texts).numpy())


@needs_data
def test_on_imdb_the_same_as_text_vectorization_after_line_breaks():
    texts = [text for text, _ in read_table(data_dir() / "imdb" / "test.csv.gz")[:1000]]
    ours = Tokenizer(standardize="lower_and_strip_punctuation", length=100).adapt(texts, max_tokens=5000)
    theirs = keras.layers.TextVectorization(max_tokens=5000, output_sequence_length=100)
    clean = [text.replace("<br />", " ") for text in texts]  # IMDB's only markup
    theirs.adapt(clean)
    assert list(ours.vocabulary) == theirs.get_vocabulary()
    np.testing.assert_array_equal(ours.padded(texts).numpy(), theirs(clean).numpy())


def test_reserved_ids_levels_line_ends_and_cuts():
    words = Tokenizer(standardize="lower_and_strip_punctuation").adapt(["the film the end"])
    assert words.vocabulary[:3] == ("", "[UNK]", "the") and words.unknown_id == 1
    assert words.tokens(words.ids(["The END of it"])[0].numpy()) == ["the", "end", "[UNK]", "[UNK]"]
    stream = Tokenizer(padding=False, line_end="<eos>").adapt(["a b\nb c\n"])
    assert stream.vocabulary[0] == "[UNK]" and stream.unknown_id == 0
    assert stream.tokens(stream.stream("a b\nb z\n").numpy()) == ["a", "b", "<eos>", "b", "[UNK]", "<eos>"]
    assert stream.detokenize(stream.stream("a b\nb c\n").numpy()) == "a b\nb c\n"
    characters = Tokenizer(level="character", padding=False, length=3, keep="last").adapt(["héllo\n"])
    assert characters.tokens(characters.ids(["héllo"])[0].numpy()) == ["l", "l", "o"]  # the last 3
    first = Tokenizer(length=2).adapt(["x y z"])
    assert first.tokens(first.ids(["x y z"])[0].numpy()) == ["x", "y"]
    assert first.padded([""], width=3).numpy().tolist() == [[0, 0, 0]]
    assert Tokenizer.from_dict(json.loads(json.dumps(first.to_dict()))) == first
    with pytest.raises(ValueError, match="argument `level`, expected one of word, character, got 'byte'"):
        Tokenizer(level="byte")


def test_score_reads_windows_of_at_most_the_training_context_and_matches_a_whole_reading():
    """A network whose logits depend on the current token only (an embedding into the vocabulary)
    scores the same read whole or in windows: the windows change memory, not the sum."""

    from zoo.generate import log_softmax, score

    tokenizer = Tokenizer(padding=False, line_end="<eos>", length=7).adapt(["a b c d e f g h\n"])
    keras.utils.set_random_seed(0)
    bigram = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(len(tokenizer.vocabulary),
                                                                                           len(tokenizer.vocabulary))])
    lengths = []
    real = bigram.predict_on_batch

    def spy(batch):
        lengths.append(batch.shape[1])
        return real(batch)

    bigram.predict_on_batch = spy
    text = " ".join("abcdefgh"[i % 8] for i in range(100))
    ids = [tokenizer.id_of("<eos>"), *tokenizer.stream(text).numpy().tolist(), tokenizer.id_of("<eos>")]
    whole = log_softmax(np.asarray(real(np.array([ids[:-1]], dtype="int32")))[0])
    expected = sum(whole[t, ids[t + 1]] for t in range(len(ids) - 1))
    assert score(bigram, tokenizer, text) == pytest.approx(expected, rel=1e-5)
    assert max(lengths) <= 7 and len(lengths) > 20  # windows of the context, never the whole text
