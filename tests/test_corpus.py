"""A language model's corpus in bounded memory (zoo.data.corpus): block reading that never cuts a
token, Keras's vocabulary order from streamed counts, ids written once and reused from the cache
(by every process at once too), and the windows the same as the whole stream's."""

import collections
import dataclasses
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from test_data import needs_data
from zoo.config import Config
from zoo.data import corpus
from zoo.data.corpus import Text
from zoo.data.files import data_dir, read_text
from zoo.errors import UserError
from zoo.tasks import language


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "corpus"


def awkward_file(tmp_path):
    """A file with a byte-order mark, CRLF and LF line ends, multi-byte characters and a long line."""
    lines = ["héllo wörld — ünïcode", "a " * 300, "the end\r", "日本語 テキスト", "x"]
    path = tmp_path / "awkward.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines * 40).encode("utf-8"))
    return path


def test_blocks_join_to_the_text_and_give_its_tokens(tmp_path):
    path = awkward_file(tmp_path)
    text = read_text(path)
    for size in (7, 64, 1000, 1 << 20):
        pieces = list(corpus.blocks(Text.file(path), size))
        assert "".join(pieces) == text and (size > len(text.encode()) or len(pieces) > 1)
        assert "".join(corpus.blocks(text, size)) == text
    for tokenizer in (language.tokenizer_of("word"), language.tokenizer_of("character")):
        whole = tokenizer.split([text]).flat_values.numpy().tolist()
        pieces = [t for block in corpus.blocks(Text.file(path), 50) for t in tokenizer.split([block]).flat_values.numpy()]
        assert pieces == whole


def test_a_split_of_a_file_is_bytes_cut_at_whitespace(tmp_path):
    path = awkward_file(tmp_path)
    parts = language.split(Text.file(path), seed=0)
    read = [part.read() for part in parts.values()]
    assert "".join(read) == read_text(path) and all(part[0].isspace() for part in read[1:])
    assert sum(len(part) for part in parts.values()) == path.stat().st_size  # bytes, the byte-order mark too
    assert len(read[0]) > 0.85 * len(read_text(path))


def test_bytes_that_are_not_utf8_name_the_offset(tmp_path, cache):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"plain words\n" * 1000 + "caf\xe9".encode("latin-1"))
    with pytest.raises(UserError, match=r"is not UTF-8 text \(byte 12003\); convert it to UTF-8"):
        corpus.count(Text.file(path), language.tokenizer_of("word"))


@needs_data
@pytest.mark.parametrize("level, max_tokens", [("word", 5000), ("character", None)])
def test_streamed_counts_give_string_lookups_vocabulary(level, max_tokens, cache):
    name = {"word": "ptb/ptb.train.txt", "character": "tinyshakespeare/input.txt"}[level]
    text = read_text(data_dir() / name)[:300_000]  # many ties among the rare words
    tokenizer = language.tokenizer_of(level)
    counts = corpus.count(text, tokenizer)
    tokens = tokenizer.split([text]).flat_values
    assert counts == {t.decode(): n for t, n in collections.Counter(tokens.numpy().tolist()).items()}
    layer = keras.layers.StringLookup(max_tokens=max_tokens, mask_token=None, oov_token="[UNK]")
    layer.adapt(tokens)
    assert list(tokenizer.adapt(counts=counts, max_tokens=max_tokens).vocabulary) == layer.get_vocabulary()


@needs_data
def test_a_limit_cuts_the_text_before_it_is_read_and_tokenized(tmp_path, cache, store):
    """corpus.prefix: the first lines that hold the tokens asked for (a Text or a str, words with
    <eos> or characters); a language model with a `limit` reads no further: bytes that are not
    UTF-8 after that point stop the whole-text run with one line, and not the limited one."""
    path = awkward_file(tmp_path)
    text = read_text(path)
    for tokenizer in (language.tokenizer_of("word"), language.tokenizer_of("character")):
        whole = len(tokenizer.split([text]).flat_values)
        for wanted in (1, 37, 1000, whole, whole + 5):
            for source in (Text.file(path), text):
                cut = corpus.prefix(source, tokenizer, wanted)
                assert text.startswith(cut) and (cut.endswith("\n") or cut == text)
                held = len(tokenizer.split([cut]).flat_values)
                shorter = len(tokenizer.split(["".join(cut.splitlines(keepends=True)[:-1])]).flat_values)
                assert held >= min(wanted, whole) and (shorter < wanted or cut == text)
    from zoo.__main__ import main

    bad = tmp_path / "bad.txt"
    bad.write_bytes(("the cat sat on the mat\n" * 80000).encode() + "caf\xe9\n".encode("latin-1"))  # test: 92 KB
    tiny = ["train", "--set", "task=lm", "--set", "dataset=user", "--set", f"data_path={bad}", "--set", "units=4",
            "--set", "embedding_size=4", "--set", "batch_size=2", "--set", "sequence_length=4", "--set", "epochs=1",
            "--set", "flow_samples=1"]
    assert main([*tiny, "--set", "limit=3"]) == 0  # 2 x (3 x 4 + 1) tokens a split: the bad bytes are not read
    assert main(tiny) == 2


def test_ids_are_written_once_and_windows_are_the_whole_streams(cache, capsys):
    path = data_dir() / "ptb" / "ptb.valid.txt"
    tokenizer = language.tokenizer_of("word")
    tokenizer = tokenizer.adapt(counts=corpus.count(Text.file(path), tokenizer))
    first = corpus.token_ids({"train": Text.file(path)}, tokenizer)
    again = corpus.token_ids({"train": Text.file(path)}, tokenizer)
    assert not first.cached and again.cached and first.ids["train"].dtype == np.uint16
    stream = tokenizer.stream(read_text(path)).numpy()
    np.testing.assert_array_equal(again.ids["train"], stream)
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []  # no half-written entry
    assert again.coverage("train") == 1.0 and again.unknown["train"] == 0
    characters = language.tokenizer_of("character")  # the fast path for characters: the same ids
    text = read_text(data_dir() / "tinyshakespeare" / "input.txt")[:200_000] + "日本"
    characters = characters.adapt(counts=corpus.count(text[:150_000], characters))
    np.testing.assert_array_equal(corpus.token_ids({"train": text}, characters).ids["train"],
                                  characters.stream(text).numpy())

    config = Config(task="lm", batch_size=4, sequence_length=7, limit=0)
    rows = stream[: len(stream) // 4 * 4].reshape(4, -1)
    for reverse, limit in ((False, 0), (True, 3)):
        setting = dataclasses.replace(config, reverse=reverse, limit=limit)
        pipeline, tokens = language.windows(again.ids["train"], setting)
        batches = list(pipeline.as_numpy_iterator())
        want = stream[::-1][: len(stream) // 4 * 4].reshape(4, -1) if reverse else rows
        assert len(batches) == (limit or (want.shape[1] - 1) // 7) and tokens == len(batches) * 28
        for k, (x, y) in enumerate(batches):
            np.testing.assert_array_equal(x, want[:, 7 * k:7 * k + 7])
            np.testing.assert_array_equal(y, want[:, 7 * k + 1:7 * k + 8])


@needs_data
def test_processes_preparing_the_same_corpus_at_once_share_one_entry(cache, tmp_path):
    program = ("from zoo.data import corpus; from zoo.data.corpus import Text; from zoo.tasks import language\n"
               "t = language.tokenizer_of('word'); text = Text.file(__import__('sys').argv[1])\n"
               "t = t.adapt(counts=corpus.count(text, t))\n"
               "print(int(corpus.token_ids({'train': text}, t).ids['train'].sum()))\n")
    path = str(data_dir() / "ptb" / "ptb.test.txt")
    env = {**os.environ, "ZOO_CACHE_DIR": str(cache.parent), "TF_CPP_MIN_LOG_LEVEL": "3"}
    workers = [subprocess.Popen([sys.executable, "-c", program, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env) for _ in range(3)]
    outputs = [worker.communicate(timeout=240) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], outputs
    assert len({out.strip().splitlines()[-1] for out, _ in outputs}) == 1
    entries = sorted(p.name.split("-")[0] for p in cache.iterdir())
    assert entries == ["counts", "ids"]  # one of each, nothing half-written left behind
