"""Sentiment (many-to-one): IMDB and SST-2, or a user's CSV/TSV with `text` and `label` columns.

Texts become token ids with a TextVectorization vocabulary adapted on the training split only
(id 0 = padding, 1 = out of vocabulary), cut or padded to config.sequence_length.
"""

import re

import keras
import numpy as np

from zoo.data import from_arrays, remote, sample, sha256_files, sha256_texts, split_user_data
from zoo.data.files import data_dir, read_table

BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)  # IMDB keeps the site's line breaks


def imdb():
    """{split: (texts, labels)}: train 25,000 and test 25,000 reviews, sorted by label on disk;
    and the files."""
    paths = {split: data_dir() / "imdb" / f"{split}.csv.gz" for split in ("train", "test")}
    return {split: read_table(path, "text", "label") for split, path in paths.items()}, list(paths.values())


def sst2():
    """{split: (texts, labels)}: GLUE train 67,349 (phrases and sentences), dev 872, and the
    labelled test 1,821; and the files."""
    paths = {split: data_dir() / "sst2" / name for split, name in
             (("train", "train.tsv"), ("val", "dev.tsv"), ("test", "test_labeled.tsv"))}
    return {split: read_table(path, "sentence", "label") for split, path in paths.items()}, list(paths.values())


def sentiment_data(config):
    """Data for config.dataset (imdb | sst2 | user, the latter from config.data_path)."""
    if config.dataset == "user":
        texts, labels = read_table(config.data_path, "text", "label")
        pairs = split_user_data(list(zip(texts, labels)), config.seed)
        splits = {split: ([t for t, _ in items], [lab for _, lab in items]) for split, items in pairs.items()}
        files = [config.data_path]
    elif config.source == "download":
        splits, files = {"imdb": remote.imdb, "sst2": remote.sst2}[config.dataset](), None
    else:
        splits, files = {"imdb": imdb, "sst2": sst2}[config.dataset]()
    counts = " / ".join(f"{split} {len(texts):,}" for split, (texts, _) in splits.items())
    print(f"{config.dataset}: {counts} texts")
    if config.limit:  # a random slice (IMDB's files are sorted by label)
        splits = {split: tuple(map(list, zip(*sample(list(zip(*pair)), config.limit, config.seed))))
                  for split, pair in splits.items()}
    if "val" not in splits:  # IMDB has no dev set: hold out a tenth of train, drawn at random
        texts, labels = splits["train"]
        order = np.random.default_rng(config.seed).permutation(len(texts))
        held_out = order[: len(texts) // 10]
        kept = order[len(texts) // 10:]
        splits = {"train": ([texts[i] for i in kept], [labels[i] for i in kept]),
                  "val": ([texts[i] for i in held_out], [labels[i] for i in held_out]),
                  "test": splits["test"]}
    vectorizer = keras.layers.TextVectorization(max_tokens=config.max_vocab,
                                                output_sequence_length=config.sequence_length)
    clean = lambda texts: [BREAK.sub(" ", text) for text in texts]  # noqa: E731
    vectorizer.adapt(clean(splits["train"][0]), batch_size=1024)
    vocabulary = vectorizer.get_vocabulary()
    arrays = {split: (vectorizer(clean(texts)).numpy().astype("int32"), np.asarray(labels, "int32"))
              for split, (texts, labels) in splits.items()}
    classes = int(max(labels.max() for _, labels in arrays.values())) + 1
    data = from_arrays(arrays["train"], arrays["val"], arrays["test"], config.batch_size, config.seed,
                       input_shape=(None,), vocab_size=len(vocabulary), num_outputs=classes)
    data.vocabularies = {"tokens": vocabulary}
    data.fingerprint = sha256_files(files) if files else sha256_texts(
        text for texts, _ in splits.values() for text in texts)
    return data
