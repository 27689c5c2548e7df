"""A language model's corpus at scale: a synthetic corpus of at least --gigabytes (the shared PTB
training text for words, Tiny Shakespeare for characters, repeated) trained for one window by
`python -m zoo train` twice, each in a fresh process: the first prepares the corpus (counts the
vocabulary, writes the ids to the cache, zoo.data.corpus), the second starts from the cache.

    python benchmarks/corpus_scale.py                          # 1 GB, words and characters
    python benchmarks/corpus_scale.py --gigabytes 0.1 --level word

Peak memory: the training process's maximum resident set size (getrusage of the child), which
includes TensorFlow itself (about 1 GB before any data). Preparation: the seconds the run
printed for counting the vocabulary and writing the ids (0 from the cache); the rest of the
wall time is Python and TensorFlow starting (about 15 s here), two sha256 passes over the file (the
run's data fingerprint and the cache's name), building the network and the one window. Writes benchmarks/results/corpus_scale.md.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"word": "ptb/ptb.train.txt", "character": "tinyshakespeare/input.txt"}
TRAIN = ["--set=task=lm", "--set=dataset=user", "--set=limit=1", "--set=epochs=1", "--set=cell=lstm",
         "--set=units=32", "--set=batch_size=20", "--set=sequence_length=35", "--set=flow_samples=2",
         "--set=system_metrics=false"]


def synthetic(source, path, size):
    """`source` repeated into `path` until it holds at least `size` bytes."""
    block = source.read_bytes()
    with open(path, "wb") as f, tqdm(total=size, unit="B", unit_scale=True, desc=f"writing {path.name}") as bar:
        written = 0
        while written < size:
            f.write(block)
            written += len(block)
            bar.update(len(block))
    return written


def timed_run(folder, corpus, level):
    """(wall seconds, preparation seconds, peak resident GB, tokens) of one `python -m zoo train`."""
    env = {**os.environ, "ZOO_CACHE_DIR": str(folder / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3",
           "MLFLOW_TRACKING_URI": f"sqlite:///{folder}/mlruns/mlflow.db"}
    with open(folder / "train.log", "w") as log:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "zoo", "train", *TRAIN, f"--set=data_path={corpus}",
                                  f"--set=level={level}"], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    out = (folder / "train.log").read_text(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"error: the run failed: {out.strip()[-800:]}")
    written = re.search(r"counted and written to the cache in ([0-9.]+) s", out)
    tokens = re.search(r"token ids: train ([0-9,]+)", out).group(1)
    return wall, float(written.group(1)) if written else 0.0, usage.ru_maxrss / 2**20, tokens


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, default=1.0, help="size of each synthetic corpus")
    parser.add_argument("--level", choices=("word", "character", "both"), default="both")
    parser.add_argument("--folder", help="where the corpora and the cache go (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from zoo.data.files import data_dir

    folder = Path(args.folder or tempfile.mkdtemp(prefix="corpus-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for level in ("word", "character") if args.level == "both" else (args.level,):
            corpus = folder / f"corpus-{level}.txt"
            size = synthetic(data_dir() / SOURCES[level], corpus, int(args.gigabytes * 1e9))
            for attempt in ("first run (prepares)", "second run (cache)"):
                wall, preparation, peak, tokens = timed_run(folder, corpus, level)
                rows.append({"level": level, "corpus": f"{size / 1e9:.2f} GB", "training tokens": tokens,
                             "run": attempt, "wall s": f"{wall:.1f}", "preparation s": f"{preparation:.1f}",
                             "peak memory GB": f"{peak:.2f}"})
                print(rows[-1], flush=True)
            corpus.unlink()
            shutil.rmtree(folder / "cache", ignore_errors=True)
    finally:
        if not args.folder:
            shutil.rmtree(folder, ignore_errors=True)
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table)
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "corpus_scale.md").write_text(
        f"python benchmarks/corpus_scale.py --gigabytes {args.gigabytes:g} --level {args.level}\n\n{table}\n")


if __name__ == "__main__":
    main()
