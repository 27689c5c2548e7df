"""Part-of-speech tagging (many-to-many): UD English EWT (UPOS), or any CoNLL-U file.

Words and tags become ids with StringLookup vocabularies from the training split only (id 0 =
padding, 1 = out-of-vocabulary word); sentences are padded per batch, never cut.
"""

import keras
import tensorflow as tf

from zoo.data import Data, prefetched, remote, sample, sha256_files, sha256_texts, split_user_data
from zoo.data.files import data_dir, read_conllu


def ud_english_ewt():
    """{split: [(words, upos)]}: 12,544 / 2,001 / 2,077 sentences (v2.16); and the files."""
    folder = data_dir() / "ud_english_ewt"
    paths = {split: folder / f"en_ewt-ud-{name}.conllu"
             for split, name in (("train", "train"), ("val", "dev"), ("test", "test"))}
    return {split: read_conllu(path) for split, path in paths.items()}, list(paths.values())


def tagging_data(config):
    """Data for config.dataset (ud_english_ewt | user, the latter from config.data_path)."""
    if config.dataset == "user":
        splits, files = split_user_data(read_conllu(config.data_path), config.seed), [config.data_path]
    elif config.source == "download":
        splits, files = remote.ud_english_ewt(), None
    else:
        splits, files = ud_english_ewt()
    print(f"{config.dataset}: " + " / ".join(
        f"{split} {len(sentences):,} sentences, {sum(len(w) for w, _ in sentences):,} words"
        for split, sentences in splits.items()))
    splits = {split: sample(sentences, config.limit, config.seed) for split, sentences in splits.items()}
    words = keras.layers.StringLookup(max_tokens=config.max_vocab, mask_token="", oov_token="[UNK]")
    words.adapt(tf.ragged.constant([w for w, _ in splits["train"]]))
    tags = keras.layers.StringLookup(mask_token="", oov_token="[UNK]")
    tags.adapt(tf.ragged.constant([t for _, t in splits["train"]]))

    def pipeline(sentences, shuffle):
        ids = words(tf.ragged.constant([w for w, _ in sentences]))
        labels = tags(tf.ragged.constant([t for _, t in sentences]))
        ds = tf.data.Dataset.from_tensor_slices((ids, labels))
        if shuffle:
            ds = ds.shuffle(len(sentences), seed=config.seed, reshuffle_each_iteration=True)
        pad = lambda ragged: tf.cast(ragged.to_tensor(), tf.int32)  # noqa: E731  (0 = padding)
        return prefetched(ds.ragged_batch(config.batch_size).map(lambda w, t: (pad(w), pad(t))))

    return Data(
        train=pipeline(splits["train"], True),
        val=pipeline(splits["val"], False),
        test=pipeline(splits["test"], False),
        input_shape=(None,),
        vocab_size=words.vocabulary_size(),
        num_outputs=tags.vocabulary_size(),
        train_tokens=sum(len(w) for w, _ in splits["train"]),
        fingerprint=sha256_files(files) if files else sha256_texts(
            " ".join(words) for sentences in splits.values() for words, _ in sentences),
        vocabularies={"tokens": words.get_vocabulary(), "tags": tags.get_vocabulary()},
    )
