"""Every dataset in one table: what it is, where its files are, and how they are read.

    DATASETS["ptb"].task                 # "lm"
    register(Dataset("wikitext2", task="lm", folder="wikitext-2",
                     files={"train": "wiki.train.tokens", "val": "wiki.valid.tokens",
                            "test": "wiki.test.tokens"}))
    data = load(config)                  # zoo.data.Data for config.dataset, built by its task

A dataset gives examples in its task's format (zoo/tasks: sentiment [(text, label)], pos
[(words, tags)], lm one text per split); the task spec turns them into pipelines. The data
directory is ZOO_DATA_DIR or ../shared/data (zoo.data.files.data_dir). `--set source=download`
reads the same data from its canonical source (`remote`). Your own data: `--set dataset=user
--set data_path=PATH`, a folder with train / valid (or dev) / test files of the task's format,
used as given, or one file, split by the task (zoo.tasks: TaskSpec.split) with `split_seed`.
"""

import dataclasses
import hashlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from zoo import tasks
from zoo.data import remote
from zoo.data.corpus import Text
from zoo.data.files import data_dir, read_conllu, read_table, require, sha256
from zoo.data.pipelines import sample, sha256_texts
from zoo.errors import UserError

SPLITS = ("train", "val", "test")
# names a file of a user's folder may carry for each split (WikiText, UD, CSV conventions)
SPLIT_NAMES = {"train": ("train",), "val": ("valid", "dev", "val"), "test": ("test",)}


@dataclass(frozen=True)
class Dataset:
    """One dataset: its task, level and files. Examples come from `read` (one file a split),
    `local` (the whole folder at once), `remote` (with source=download) or the task itself
    (`generated`)."""

    name: str
    task: str  # a name in zoo.tasks.TASKS
    level: str = "word"  # word | character: what a token is (zoo.text.Tokenizer)
    standardize: str = "none"  # a language model's text: zoo.text.Tokenizer's standardize (that of the
    #                            classifier it pretrains for)
    folder: str = ""  # under the data directory
    files: dict = field(default_factory=dict)  # split -> file; no "val": a tenth of train is held out
    sha256: dict = field(default_factory=dict)  # file -> sha256, checked whenever the file is read
    counts: dict = field(default_factory=dict)  # split -> examples (lm: tokens), as its README says
    read: object = None  # path -> examples of one split; None: the task's reader
    local: object = None  # Dataset -> {split: examples}, instead of reading `files` one by one
    remote: object = None  # () -> {split: examples}, from the canonical source (source=download)
    generated: bool = False  # the task makes its examples itself (synthetic tasks)
    prompts: tuple = ("the",)  # language models: prompts of the samples a run logs
    source: str = ""  # where the canonical copy lives

    def paths(self):
        """[file path] in the order of `files` (train, val, test; or the one file to split)."""
        return [data_dir() / self.folder / name for name in self.files.values()]


def _tinyshakespeare_through_tfds(dataset):
    """TFDS's tiny_shakespeare builder with the local input.txt as its manual_dir (offline)."""
    local = require(dataset.paths()[0])
    return remote.tinyshakespeare(manual_dir=local.parent)


def _training_texts(dataset, readers):
    """A language model's text from labelled files (each read by its reader of `readers`): their
    texts (labels unused), one per line, in an order drawn once (seed 0), so that the last tenth
    (the language model's validation and test, zoo.tasks.language.split) is a random sample."""
    import random

    texts = [text.replace("\n", " ") for path, read in zip(dataset.paths(), readers) for text, _ in read(path)]
    random.Random(0).shuffle(texts)
    return {"all": "\n".join(texts)}


DATASETS = {}


def register(dataset):
    """Adds `dataset` to the table (replacing one of the same name); returns it."""
    if dataset.task not in tasks.TASKS:
        raise ValueError(f"Received an invalid value for argument `task`, expected one of "
                         f"{', '.join(tasks.TASKS)}, got {dataset.task!r}.")
    DATASETS[dataset.name] = dataset
    return dataset


for _dataset in (
    Dataset("adding", task="adding", generated=True, source="generated (Hochreiter & Schmidhuber 1997)"),
    Dataset("copy", task="copy", generated=True, source="generated (Arjovsky, Shah & Bengio 2016)"),
    Dataset("imdb", task="sentiment", folder="imdb", files={"train": "train.csv.gz", "test": "test.csv.gz"},
            sha256={"train.csv.gz": "c0ce2c24e52d99d90350123ccf5599e2c2dd73284bcaa08648538f9a0b76117e",
                    "test.csv.gz": "5465b6d5e6582bd8e80b879b3651671c63d3f0cf6fcd1bdd62dff6b2bd3f79d7"},
            counts={"train": 25_000, "test": 25_000}, read=read_table, remote=remote.imdb,
            source="TFDS imdb_reviews"),
    Dataset("sst2", task="sentiment", folder="sst2",
            files={"train": "train.tsv", "val": "dev.tsv", "test": "test_labeled.tsv"},
            sha256={"train.tsv": "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1",
                    "dev.tsv": "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0",
                    "test_labeled.tsv": "67e63a7551f3d7e951dc59831a6073f79f3743027148dca221c6dee087b5339a"},
            counts={"train": 67_349, "val": 872, "test": 1_821}, read=partial(read_table, text_column="sentence"),
            remote=remote.sst2, source="TFDS glue/sst2 (dev as validation and test)"),
    Dataset("ud_english_ewt", task="pos", folder="ud_english_ewt",
            files={"train": "en_ewt-ud-train.conllu", "val": "en_ewt-ud-dev.conllu",
                   "test": "en_ewt-ud-test.conllu"},
            sha256={"en_ewt-ud-train.conllu": "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b",
                    "en_ewt-ud-dev.conllu": "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6",
                    "en_ewt-ud-test.conllu": "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd"},
            counts={"train": 12_544, "val": 2_001, "test": 2_077}, read=read_conllu,
            remote=remote.ud_english_ewt, source="TFDS universal_dependencies/en_ewt (release 2.10)"),
    Dataset("ptb", task="lm", folder="ptb",
            files={"train": "ptb.train.txt", "val": "ptb.valid.txt", "test": "ptb.test.txt"},
            sha256=dict(zip(remote.PTB_SHA256, remote.PTB_SHA256.values())),
            counts={"train": 929_589, "val": 73_760, "test": 82_430}, read=Text.file, remote=remote.ptb,
            prompts=("the company said", "in the"), source=remote.PTB_URL),
    Dataset("tinyshakespeare", task="lm", level="character", folder="tinyshakespeare",
            files={"train": "input.txt"},
            sha256={"input.txt": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"},
            counts={"train": 1_003_854, "val": 55_770, "test": 55_770}, local=_tinyshakespeare_through_tfds,
            remote=remote.tinyshakespeare, prompts=("ROMEO:\n", "First Citizen:\n"),
            source="TFDS tiny_shakespeare (90% / 5% / 5% in order)"),
    # unlabelled text for pretraining (zoo.transfer): the training texts only, never a test file;
    # read as the sentiment task reads them (lowercase, no punctuation)
    Dataset("imdb_text", task="lm", folder="imdb", files={"train": "train.csv.gz"},
            sha256={"train.csv.gz": "c0ce2c24e52d99d90350123ccf5599e2c2dd73284bcaa08648538f9a0b76117e"},
            standardize="lower_and_strip_punctuation", local=partial(_training_texts, readers=(read_table,)),
            prompts=("this movie", "i thought"), source="the texts of imdb's training reviews (labels unused)"),
    Dataset("imdb_sst2_text", task="lm", files={"imdb": "imdb/train.csv.gz", "sst2": "sst2/train.tsv"},
            sha256={"train.csv.gz": "c0ce2c24e52d99d90350123ccf5599e2c2dd73284bcaa08648538f9a0b76117e",
                    "train.tsv": "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1"},
            standardize="lower_and_strip_punctuation",
            local=partial(_training_texts, readers=(read_table, partial(read_table, text_column="sentence"))), prompts=("this movie", "a film"),
            source="the texts of imdb's training reviews and sst2's training phrases (labels unused)"),
):
    register(_dataset)


def user_dataset(task, data_path, level=""):
    """The dataset of a user's `data_path` for `task`: a folder of split files, or one file, read
    at `level` (word or character; "": word)."""
    if not data_path:
        raise UserError(f"dataset=user needs --set data_path=PATH: {tasks.get(task).user_format}, "
                        "or a folder with train, valid (or dev) and test files of that format.")
    path = Path(data_path)
    if not path.is_dir():
        require(path)
        return Dataset("user", task=task, folder=str(path.parent.resolve()), files={"all": path.name},
                       level=level or "word")
    found = {}
    for split, names in SPLIT_NAMES.items():
        matches = sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                         and any(name in p.name.lower() for name in names))
        if len(matches) > 1:
            raise UserError(f"Several {split} files in {path} ({', '.join(matches)}); keep one per split.")
        if matches:
            found[split] = matches[0]
    if "train" not in found or "test" not in found:
        raise UserError(f"No {'train' if 'train' not in found else 'test'} file in {path}: name the files "
                        "*train*, *valid* (or *dev*) and *test*, or pass one file to split.")
    return Dataset("user", task=task, folder=str(path.resolve()), files=found, level=level or "word")


def get(config):
    """The Dataset of config.dataset (a user dataset from config.data_path), for config.task."""
    if config.dataset == "user":
        return user_dataset(config.task, config.data_path, config.level)
    if config.level:
        raise UserError(f"Invalid level {config.level!r} for dataset {config.dataset!r}: level applies to "
                        "dataset=user only; leave it empty.")
    if config.dataset == MEMORY:  # given to run() as data (in_memory): nothing to read
        return Dataset(MEMORY, task=config.task)
    dataset = DATASETS.get(config.dataset)
    if dataset is None or dataset.task != config.task:
        valid = [name for name, d in DATASETS.items() if d.task == config.task] + ["user"]
        raise UserError(f"Invalid dataset {config.dataset!r} for task {config.task!r}; valid choices: "
                        f"{', '.join(valid)}.")
    return dataset


def _digest(paths, expected):
    """sha256 over all files in order (the run's data_sha256); each file with a known sha256 is
    checked against it."""
    whole = hashlib.sha256()
    for path in paths:
        own = sha256(path, also=whole)  # remembered: the corpus cache names its entries by it
        want = expected.get(Path(path).name)
        if want is not None and own != want:
            raise UserError(f"Checksum mismatch for {path}: sha256 {own[:16]}..., expected "
                            f"{want[:16]}...; replace it with an intact copy (see SHA256SUMS beside the data).")
    return whole.hexdigest()


def _texts(examples):
    """Strings that stand for examples of any task's format, for a fingerprint."""
    if isinstance(examples, str):
        return [examples]
    return [item[0] if isinstance(item[0], str) else " ".join(item[0]) for item in examples]


def _downloads(config, dataset):
    """True if `config` fetches `dataset` (TFDS, canonical URL) instead of reading local files."""
    return config.source == "download" and dataset.name != "user"


def splits(config, dataset=None):
    """({split: examples} of train, val and test, sha256 of the data) for `config`."""
    dataset = dataset or get(config)
    task = tasks.get(dataset.task)
    paths = []  # the files read (none when downloaded): their sha256 is the data's
    if _downloads(config, dataset):
        if dataset.remote is None:
            raise UserError(f"Dataset {dataset.name!r} has no download source; use source=local.")
        found = dataset.remote()
    else:
        paths = [require(path) for path in dataset.paths()]
        read = dataset.read or task.read
        found = dataset.local(dataset) if dataset.local is not None else {
            split: read(data_dir() / dataset.folder / name) for split, name in dataset.files.items()}
    for split, examples in found.items():
        if not len(examples):
            raise UserError(f"Data file {data_dir() / dataset.folder / dataset.files.get(split, '')} holds no "
                            f"examples; expected {task.user_format}.")
    found = _sliced(config, dataset, task, found)
    if not paths:
        return found, sha256_texts(text for split in SPLITS for text in _texts(found[split]))
    return found, _digest(paths, dataset.sha256)


def _sliced(config, dataset, task, found):
    """{train, val, test: examples} of what was read: one text split by the task, `limit`, the
    held-out validation split where there is none, `train_limit`."""
    if "all" in found:  # one file: the task splits it, the same way whatever the seed
        found = task.split(found["all"], config.split_seed)
    print(f"{dataset.name}: " + " / ".join(f"{split} {task.describe(examples, dataset.level)}"
                                           for split, examples in found.items()), flush=True)
    if config.limit:  # a random slice of every split (a language model's limit counts windows)
        found = {split: examples if task.language_model else sample(examples, config.limit, config.split_seed)
                 for split, examples in found.items()}
    if "val" not in found:
        found["train"], found["val"] = task.hold_out(found["train"], config.split_seed)
    if config.train_limit:  # a small labelled set: validation and test stay whole
        found["train"] = sample(found["train"], config.train_limit, config.split_seed)
    return {split: found[split] for split in SPLITS}


MEMORY = "memory"  # config.dataset of data given in memory (in_memory)


def in_memory(config, train=None, test=None, val=None, text=None):
    """The zoo.data.Data of examples held in memory, for run(config, data=...) with
    config.dataset="memory": no file, nothing registered. Examples as the task reads them:
    sentiment [(text, label)], pos [(tokens, tags)], lm a text (train, val, test) or one `text`
    that the task splits (90/5/5). Without `val`, a tenth of train is held out. The run's
    data_sha256 is the examples' own.

        data = datasets.in_memory(config, train=[("a fine film", 1), ...], test=[...])
        result = train.run(dataclasses.replace(config, dataset="memory"), data=data)
    """
    if config.dataset != MEMORY:
        raise UserError(f"Invalid dataset {config.dataset!r} for data in memory; use dataset={MEMORY!r}.")
    task = tasks.get(config.task)
    found = {"all": text} if text is not None else {name: examples for name, examples in
                                                    (("train", train), ("val", val), ("test", test))
                                                    if examples is not None}
    missing = [] if text is not None else [name for name in ("train", "test") if name not in found]
    empty = [name for name, examples in found.items() if not len(examples)]
    if missing or empty:
        raise UserError(f"Invalid data in memory: {', '.join(missing + empty)} {'missing' if missing else 'empty'}; "
                        f"give train and test (or one text to split), each {task.user_format}.")
    dataset = get(config)
    found = _sliced(config, dataset, task, found)
    data = task.data(config, dataset, found, sha256_texts(text for split in SPLITS for text in _texts(found[split])))
    return dataclasses.replace(data, counts=data.counts or counts(found))


def counts(found):
    """{split: {"examples": n}} of examples read (a language model's data counts its tokens itself)."""
    return {split: {"examples": len(examples)} for split, examples in found.items()}


def described(dataset):
    """Where `dataset` comes from, in words that name no local path (MLflow's dataset source)."""
    if dataset.name == "user":
        return "user files: " + ", ".join(dataset.files.values())
    return dataset.source or dataset.name


def check(config):
    """Raises the one-line UserError that loading would, for a missing dataset, folder or file,
    without reading the data: what a sweep checks before it creates anything."""
    dataset = get(config)
    if not dataset.generated and not _downloads(config, dataset):
        for path in dataset.paths():
            require(path)


def load(config, dataset=None):
    """The zoo.data.Data of config.dataset for config.task, built by the task's spec (dataset: the
    Dataset of get(config), when the caller has it)."""
    dataset = dataset or get(config)
    task = tasks.get(config.task)
    if dataset.name == MEMORY:
        raise UserError("Dataset 'memory' has no files: pass its examples, run(config, data=zoo.datasets.in_memory("
                        "config, train=..., test=...)).")
    if dataset.generated:
        return dataclasses.replace(task.data(config, dataset, None, None), counts={"train": {"examples": config.examples}})
    found, sha256 = splits(config, dataset)
    data = task.data(config, dataset, found, sha256)
    return dataclasses.replace(data, counts=data.counts or counts(found))
