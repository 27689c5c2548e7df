"""A language model's text as token ids on disk: read in blocks, counted in one pass, written once,
memory-mapped, and cached by content, so that a corpus of any size takes bounded memory and the
next run (every child of a sweep, a baseline on the same data) starts from the cache.

    text = Text.file("wiki.train.tokens")          # nothing read yet; len(text) = bytes
    counts = count(text, tokenizer)                 # {token: n} of the training text, Keras's order
    tokenizer = tokenizer.adapt(counts=counts, max_tokens=20000)
    ids = token_ids({"train": text, ...}, tokenizer)   # Ids: {split: uint16 | int32 memmap [tokens]}

A split is a `Text` (bytes [start, end) of a UTF-8 file, .gz too; line ends read as "\n") or a
`str` held in memory (a dataset read by TFDS or built from other files). Blocks of about 4 MB are cut after a line break
(else after a space), so a block never splits a token or a character, and the tokens of the blocks
are the tokens of the whole text. The cache lives in $ZOO_CACHE_DIR/corpus (~/.cache/zoo/corpus); an entry is
named by the sha256 of the text and the tokenizer's settings (and vocabulary), written to a
temporary folder and renamed when whole, so that processes preparing the same corpus at once
never read half an entry. Deleting the folder is always safe.
"""

import atexit
import collections
import gzip
import hashlib
import json
import os
import shutil
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from zoo.data import files
from zoo.data.files import require
from zoo.errors import UserError

BLOCK = 4 << 20  # bytes read at a time
VERSION = 1  # of the cache's format: a new one never reads an old entry


@dataclass(frozen=True)
class Text:
    """Bytes [start, end) of a UTF-8 text file (gzip-compressed too), read only when asked."""

    path: str
    start: int
    end: int

    @classmethod
    def file(cls, path):
        """The whole file; its (uncompressed) size read once, here."""
        path = str(require(path))
        if not path.endswith(".gz"):
            return cls(path, 0, os.path.getsize(path))
        whole = cls(path, 0, 1 << 62)  # a .gz: one pass to count its bytes
        return cls(path, 0, sum(len(block) for block in whole.raw_blocks()))

    def _open(self):
        return gzip.open(self.path, "rb") if self.path.endswith(".gz") else open(self.path, "rb")

    def __len__(self):
        return self.end - self.start

    def __getitem__(self, where):
        """text[a:b]: the bytes a..b of this text (offsets relative to it), as a Text."""
        start, stop, _ = where.indices(len(self))
        return Text(self.path, self.start + start, self.start + max(start, stop))

    def read(self):
        """The whole text as a str (small texts: tests, prompts)."""
        return "".join(blocks(self))

    def raw_blocks(self, size=BLOCK):
        """The bytes of this text in blocks of `size` (the last one shorter)."""
        try:
            with self._open() as f:
                f.seek(self.start)
                left = len(self)
                while left > 0:
                    block = f.read(min(size, left))
                    if not block:
                        return
                    left -= len(block)
                    yield block
        except (EOFError, OSError, zlib.error) as error:
            raise UserError(f"Corrupt data file {self.path} ({error}); replace it with an intact copy.") from None

    def cut(self, share):
        """The offset where the first `share` of the text ends, moved on past the next whitespace
        byte's start (so that no word or character is cut in two)."""
        at = int(len(self) * share)
        for block in self[at:].raw_blocks(1 << 16):
            space = next((i for i, b in enumerate(block) if b in b" \t\r\n\x0b\x0c"), None)
            if space is not None:
                return at + space
            at += len(block)
        return at


def blocks(text, size=BLOCK):
    """A Text or a str -> str pieces of about `size` bytes (characters for a str), each cut after
    a line break (else a space; a stretch with neither is carried on whole): joined, they are the
    text. A file's byte-order mark is dropped; bytes that are not UTF-8 are a UserError naming the
    offset."""
    return (piece for piece, _ in _pieces(text, size))


def _pieces(text, size=BLOCK):
    """blocks(text, size) as (piece, its length in the text: bytes of a Text, characters of a str)."""
    if isinstance(text, str):
        start = 0
        while start < len(text):
            end = _after_break(text, start, min(start + size, len(text)))
            while end is None:  # no break in this stretch: on to the next one
                size *= 2
                end = _after_break(text, start, min(start + size, len(text)))
            yield text[start:end], end - start
            start = end
        return
    carried, offset = b"", text.start
    for block in text.raw_blocks(size):
        block = carried + block
        end = _after_break(block, 0, len(block))
        if end is None:
            carried = block
            continue
        carried, block = block[end:], block[:end]
        yield _decoded(block, offset, text), len(block)
        offset += len(block)
    if carried:
        yield _decoded(carried, offset, text), len(carried)


def _after_break(text, start, end):
    """The index after the last line break (else space) of text[start:end]; the end of the text
    where `end` is; None where there is neither."""
    if end >= len(text) and isinstance(text, str):
        return end
    newline, space = ("\n", " ") if isinstance(text, str) else (b"\n", b" ")
    for mark in (newline, space):
        found = text.rfind(mark, start, end)
        if found >= start:
            return found + 1
    return None


def _decoded(block, offset, text):
    """The text of a file's block: UTF-8, line ends \r\n and \r read as \n (as Python's text files)."""
    try:
        return block.decode("utf-8-sig" if offset == 0 else "utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as error:
        raise UserError(f"Data file {text.path} is not UTF-8 text (byte {offset + error.start}); "
                        "convert it to UTF-8.") from None


def digest(text):
    """sha256 naming a text's cache entries: of a str's UTF-8; of a Text, of its file's sha256
    (zoo.data.files.sha256: each file hashed once per process) and its byte range."""
    if isinstance(text, str):
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    return hashlib.sha256(f"{files.sha256(text.path)} {text.start} {text.end}".encode()).hexdigest()


def cache_dir():
    """The corpus cache: `corpus` in the zoo's cache (ZOO_CACHE_DIR, else ~/.cache/zoo)."""
    from zoo.data import remote

    return remote.cache_dir() / "corpus"


def _key(kind, **parts):
    return f"{kind}-" + hashlib.sha256(json.dumps({"version": VERSION, **parts}, sort_keys=True).encode()).hexdigest()[:32]


def _cached(name, build):
    """The cache entry `name` (a folder), built by build(folder) into a temporary folder and renamed
    into place when whole; an entry another process finished first is kept and ours dropped. A
    cache folder that cannot be written (read-only) gives a private temporary entry instead."""
    entry = cache_dir() / name
    if (entry / "meta.json").is_file():
        return entry
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir()))
    except OSError as error:
        private = Path(tempfile.mkdtemp(prefix="zoo-corpus-"))
        atexit.register(shutil.rmtree, private, True)
        print(f"corpus cache {cache_dir()} cannot be written ({error.strerror}); the ids go to a temporary "
              "folder for this process (set ZOO_CACHE_DIR to a writable folder to keep them)", flush=True)
        _build(build, private, private)
        return private
    try:
        _build(build, building, cache_dir())
        try:
            os.rename(building, entry)
        except OSError:  # another process put it there first
            if not (entry / "meta.json").is_file():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return entry


def _build(build, folder, where):
    try:
        build(folder)
    except OSError as error:  # a full disk: the data files' own errors are UserErrors already
        raise UserError(f"Cannot write the corpus cache in {where} ({error.strerror or error}); free space "
                        "there or set ZOO_CACHE_DIR to a folder with room.") from None


def _read(text, desc):
    """The blocks of `text`, with a progress bar (bytes)."""
    bar = tqdm(total=len(text), unit="B", unit_scale=True, desc=desc, leave=False)
    for block, length in _pieces(text):
        yield block
        bar.update(length)
    bar.close()


def _plain_characters(tokenizer):
    """True where a token is one Unicode character as Python reads it (character level, the text
    as it is): the fast path, tested equal to the Tokenizer's own ops in tests/test_corpus.py."""
    return tokenizer.level == "character" and tokenizer.standardize == "none" and tokenizer.line_end is None


def count(text, tokenizer):
    """{token: count} of `text` read by `tokenizer` (its level, standardize and line_end), most
    frequent first, ties by token, last first: keras.layers.StringLookup.adapt's order. Cached."""
    def build(folder):
        counts, code_points = collections.Counter(), np.zeros(0x110000, "int64")
        for block in _read(text, "counting tokens"):
            if _plain_characters(tokenizer):
                code_points += np.bincount(np.frombuffer(block.encode("utf-32-le"), "<u4"), minlength=0x110000)
            else:
                counts.update(tokenizer.split([block]).flat_values.numpy().tolist())
        counts.update({chr(c).encode("utf-8"): int(code_points[c]) for c in np.flatnonzero(code_points)})
        ordered = sorted(((token.decode("utf-8"), n) for token, n in counts.items()),
                         key=lambda item: (item[1], item[0]), reverse=True)
        (folder / "counts.json").write_text(json.dumps(ordered, ensure_ascii=False))
        (folder / "meta.json").write_text(json.dumps({"distinct": len(ordered)}))

    entry = _cached(_key("counts", text=digest(text), tokenizer=tokenizer.settings()), build)
    return dict(json.loads((entry / "counts.json").read_text()))


def prefix(text, tokenizer, tokens):
    """The start of `text` (a Text or a str) that holds at least `tokens` tokens as `tokenizer`
    reads them, as a str cut after a line (all of it where it holds fewer): a `limit` is applied
    before the text is tokenized, and the rest of the text is never read."""
    kept, have = [], 0
    for block in blocks(text, 1 << 16):  # small blocks: it reads at most 64 KB past the cut
        lines = block.splitlines(keepends=True)
        if not lines:
            continue
        if _plain_characters(tokenizer):
            sizes = np.fromiter(map(len, lines), "int64", len(lines))
        else:
            sizes = tokenizer.split(lines).row_lengths().numpy()
        ends = have + np.cumsum(sizes)
        if ends[-1] >= tokens:
            kept.extend(lines[:int(np.searchsorted(ends, tokens)) + 1])
            break
        kept.append(block)
        have = int(ends[-1])
    return "".join(kept)


def _id_reader(tokenizer, dtype):
    """block (str) -> its token ids (numpy `dtype`): the Tokenizer's lookup, or for plain characters
    a table from code point to id."""
    if not _plain_characters(tokenizer):
        return lambda block: tokenizer.lookup(tokenizer.split([block]).flat_values).numpy().astype(dtype)
    table = np.full(0x110000, tokenizer.unknown_id, dtype)
    for i, token in enumerate(tokenizer.vocabulary):
        if len(token) == 1:
            table[ord(token)] = i
    return lambda block: table[np.frombuffer(block.encode("utf-32-le"), "<u4")]


@dataclass(frozen=True)
class Ids:
    """A corpus's token ids: ids {split: memory-mapped uint16 or int32 [tokens]} and, per split,
    the number of tokens read as the unknown id (`unknown`). seconds: what token_ids took;
    cached: whether the ids came from the cache (else they were written now)."""

    ids: dict
    unknown: dict
    seconds: float
    cached: bool

    def coverage(self, split):
        """The share of the split's tokens that the vocabulary knows."""
        return 1 - self.unknown[split] / max(len(self.ids[split]), 1)


def token_ids(texts, tokenizer):
    """{split: Text or str} -> Ids through `tokenizer` (with its vocabulary), written once to the
    cache: ids in uint16 where the vocabulary fits, else int32."""
    dtype = np.dtype("uint16" if len(tokenizer.vocabulary) <= 1 << 16 else "int32")
    start = time.perf_counter()

    built, read = [], _id_reader(tokenizer, dtype)

    def build(folder):
        built.append(folder)
        meta = {"dtype": dtype.str, "tokens": {}, "unknown": {}}
        for split, text in texts.items():
            tokens = unknown = 0
            with open(folder / f"{split}.ids", "wb") as f:
                for block in _read(text, f"token ids: {split}"):
                    ids = read(block)
                    f.write(ids.tobytes())
                    tokens += len(ids)
                    unknown += int(np.count_nonzero(ids == tokenizer.unknown_id))
            meta["tokens"][split], meta["unknown"][split] = tokens, unknown
        (folder / "meta.json").write_text(json.dumps(meta))

    vocabulary = hashlib.sha256("\n".join(tokenizer.vocabulary).encode("utf-8")).hexdigest()
    entry = _cached(_key("ids", texts={split: digest(text) for split, text in texts.items()},
                         tokenizer=tokenizer.settings(), vocabulary=vocabulary), build)
    meta = json.loads((entry / "meta.json").read_text())
    ids = {split: np.memmap(entry / f"{split}.ids", dtype=meta["dtype"], mode="r") if n else
           np.zeros(0, meta["dtype"]) for split, n in meta["tokens"].items()}
    return Ids(ids, meta["unknown"], time.perf_counter() - start, cached=not built)
