"""Language modelling: PTB (words), Tiny Shakespeare (characters), or a user's text file (words).

PTB is the token stream with one `<eos>` per line (929,589 / 73,760 / 82,430 tokens). Tiny
Shakespeare comes through TFDS's builder, split by characters: the first 90% train, then 5% validation
and 5% test (a user's text file is split the same way, by words). Ids come
from a StringLookup vocabulary of the training split (id 0 = out of vocabulary).

Batches follow Zaremba et al. (2014): each split's stream is cut into batch_size contiguous rows,
and batch k holds the k-th window of sequence_length steps of every row (targets: the same window
shifted by one). Row i of batch k + 1 continues row i of batch k, so a stateful model carries its
state from window to window; batches come in order, never shuffled. The last partial window of
each row is dropped.
"""

import keras
import numpy as np
import tensorflow as tf

from zoo.data import Data, prefetched, remote, sha256_files, sha256_texts
from zoo.errors import UserError
from zoo.data.files import data_dir, read_text, require


def words_with_eos(text):
    return [token for line in text.splitlines() for token in line.split() + ["<eos>"]]


def ptb(download=False):
    """{split: tokens} with one <eos> per line, and the files (local, or downloaded and checked)."""
    if download:
        paths = dict(zip(("train", "val", "test"), remote.ptb_files()))
    else:
        paths = {split: data_dir() / "ptb" / f"ptb.{name}.txt" for split, name in
                 (("train", "train"), ("val", "valid"), ("test", "test"))}
    return {split: words_with_eos(read_text(path)) for split, path in paths.items()}, list(paths.values())


def split_90_5_5(tokens):
    """First 90% train, next 5% validation, last 5% test (a string splits into characters)."""
    train_end, val_end = int(len(tokens) * 0.9), int(len(tokens) * 0.95)
    return {"train": list(tokens[:train_end]), "val": list(tokens[train_end:val_end]),
            "test": list(tokens[val_end:])}


def tinyshakespeare(download=False):
    """{split: characters} from TFDS's tiny_shakespeare builder (90% / 5% / 5% in order). Locally
    TFDS reads the data folder's input.txt (its manual_dir) and checks its sha256."""
    local = None if download else require(data_dir() / "tinyshakespeare" / "input.txt")
    splits = remote.tinyshakespeare(manual_dir=local.parent if local else None)
    return {split: list(text) for split, text in splits.items()}, [local] if local else None


def lm_data(config):
    """Data for config.dataset (ptb | tinyshakespeare | user: config.data_path, words)."""
    if config.dataset == "user":
        text = read_text(config.data_path)
        splits, files = split_90_5_5(words_with_eos(text)), [config.data_path]
    else:
        splits, files = {"ptb": ptb, "tinyshakespeare": tinyshakespeare}[config.dataset](
            download=config.source == "download")
    print(f"{config.dataset}: " + " / ".join(f"{split} {len(tokens):,}" for split, tokens in splits.items())
          + f" tokens, {len(set(splits['train'])):,} distinct in train")
    lookup = keras.layers.StringLookup(max_tokens=config.max_vocab, mask_token=None)
    lookup.adapt(splits["train"])
    length, rows = config.sequence_length, config.batch_size

    def pipeline(tokens):
        ids = lookup(tf.constant(tokens)).numpy().astype("int32")
        per_row = len(ids) // rows
        if per_row <= length:
            raise UserError(f"Too little text for batch_size={rows} and sequence_length={length} "
                            f"({len(ids):,} tokens); lower them or give more text.")
        streams = ids[: rows * per_row].reshape(rows, per_row)
        windows = min((per_row - 1) // length, config.limit or per_row)
        x = np.stack([streams[:, k * length:(k + 1) * length] for k in range(windows)])
        y = np.stack([streams[:, k * length + 1:(k + 1) * length + 1] for k in range(windows)])
        return prefetched(tf.data.Dataset.from_tensor_slices((x, y))), x.size

    (train, train_tokens), (val, _), (test, _) = (pipeline(splits[s]) for s in ("train", "val", "test"))
    return Data(train=train, val=val, test=test, input_shape=(length,),
                vocab_size=lookup.vocabulary_size(), num_outputs=lookup.vocabulary_size(),
                train_tokens=train_tokens, fingerprint=sha256_files(files) if files else sha256_texts(
                    "".join(tokens) for tokens in splits.values()),
                vocabularies={"tokens": lookup.get_vocabulary()})
