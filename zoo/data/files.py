"""Where the data lives and how its files are read, with one-line errors for bad files.

Readers, one per file format (a dataset spec in zoo/datasets.py names its reader):
- `read_table(path, text_column, label_column)`: CSV or TSV with a header -> [(text, label string)];
- `read_conllu(path)`: CoNLL-U -> [(words, upos tags)];
- `read_text(path)`: the whole UTF-8 text (a language model's corpus).

The data directory is ZOO_DATA_DIR, else `../shared/data` beside this checkout when present.
It holds `imdb/`, `sst2/`, `ud_english_ewt/`, `ptb/` and `tinyshakespeare/`, each with a README.
"""

import csv
import gzip
import hashlib
import io
import os
import zlib
from pathlib import Path

from zoo.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_dir():
    """ZOO_DATA_DIR, or ../shared/data beside the project when it exists."""
    if os.environ.get("ZOO_DATA_DIR"):
        return Path(os.environ["ZOO_DATA_DIR"])
    return PROJECT_ROOT.parent / "shared" / "data"


def require(path):
    """`path` if it is a file, else a UserError that says how to fix it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Missing data file {path}: set ZOO_DATA_DIR to the folder that holds "
                        "imdb/, sst2/, ud_english_ewt/, ptb/ and tinyshakespeare/ "
                        f"(default {data_dir()}), fetch it with --set source=download, or pass your own "
                        "file with --set data_path=...")
    return path


_SHA256 = {}  # (path, size, modification time) -> the file's sha256


def sha256(path, also=None):
    """The sha256 of a file's bytes, read once per version of the file (size, modification time)
    and process. also: a hashlib object fed the same bytes (the file is then read even if known)."""
    stat = os.stat(path)
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256 or also is not None:
        own = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                own.update(block)
                if also is not None:
                    also.update(block)
        _SHA256[key] = own.hexdigest()
    return _SHA256[key]


def read_text(path):
    """The whole UTF-8 text of a file (.gz files are decompressed; a byte-order mark is dropped)."""
    path = require(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8-sig") as f:
                return f.read()
        return path.read_text(encoding="utf-8-sig")
    except (EOFError, OSError, zlib.error) as error:
        raise UserError(f"Corrupt data file {path} ({error}); replace it with an intact copy.") from None
    except UnicodeDecodeError as error:
        raise UserError(f"Data file {path} is not UTF-8 text (byte {error.start}); "
                        "convert it to UTF-8.") from None


def delimiter_of(text):
    """Tab if the header line (the first line) has a tab, else comma: by content, not by suffix."""
    return "\t" if "\t" in text.split("\n", 1)[0] else ","


def read_table(path, text_column="text", label_column="label"):
    """[(text, label)] from a CSV or TSV file with a header row (.gz allowed); labels as written
    (strings: `1`, `-1`, `pos`); the task maps them to classes."""
    path = Path(path)
    text = read_text(path)
    delimiter = delimiter_of(text)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                      quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL)
    try:
        header = next(rows)
        for column in (text_column, label_column):
            if column not in header:
                raise UserError(f"Data file {path} has no column {column!r} (columns: "
                                f"{', '.join(header)}); use a header with {text_column!r} and {label_column!r}.")
        text_at, label_at = header.index(text_column), header.index(label_column)
        examples = []
        for row in rows:
            if len(row) != len(header) or not row[label_at].strip():
                raise UserError(f"Malformed row in {path}, line {rows.line_num}: expected "
                                f"{len(header)} columns with a {label_column!r}; fix or remove it.")
            examples.append((row[text_at].strip(), row[label_at].strip()))
    except csv.Error as error:
        raise UserError(f"Malformed data file {path} ({error}); check its quoting.") from None
    except StopIteration:
        raise UserError(f"Data file {path} is empty; expected a header row and data.") from None
    return examples


def read_conllu(path):
    """[(words, upos tags)] per sentence of a CoNLL-U file. Multiword-token ranges (3-4) and
    empty nodes (8.1) are skipped: words are the integer-ID lines."""
    path = Path(path)
    sentences, words, tags = [], [], []
    for line_number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            if words:
                sentences.append((words, tags))
                words, tags = [], []
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise UserError(f"Malformed CoNLL-U line in {path}, line {line_number}: expected 10 "
                            f"tab-separated fields, got {len(fields)}; fix or remove the line.")
        if "-" in fields[0] or "." in fields[0]:
            continue
        if not fields[0].isdigit():
            raise UserError(f"Malformed CoNLL-U line in {path}, line {line_number}: ID "
                            f"{fields[0]!r} is not an integer, a range or a decimal; fix the line.")
        words.append(fields[1])
        tags.append(fields[3])
    if words:
        sentences.append((words, tags))
    if not sentences:
        raise UserError(f"Data file {path} holds no CoNLL-U sentences; check the file.")
    return sentences
