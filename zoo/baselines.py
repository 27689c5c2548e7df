"""What a practitioner would use instead of a recurrent network: strong non-neural baselines of
every study, fitted on the study's own training split, chosen on its validation split, scored on
its test split, each logged as its own MLflow run in the task's experiment.

    BASELINES["sentiment"]["tfidf-logreg"].fit(config, splits)  # -> Fitted (no MLflow)
    run(STUDIES["imdb"].base, "tfidf-logreg", study="imdb")     # fitted and logged, or found logged
    rows, failed = run_studies(studies("sst2,ptb"))            # python -m zoo baselines --study sst2,ptb
    print(table(rows))

The table, one entry per task (zoo.tasks), each baseline a plain record (`Baseline`):

    sentiment  tfidf-logreg  TF-IDF of uni+bigrams (sublinear tf) + logistic regression, C on validation
               nbsvm         Wang & Manning (2012): binarized uni+bigrams scaled by the NB log-count ratio,
                             a linear SVM, its weights interpolated with their mean magnitude (beta)
    pos        perceptron    NLTK's averaged perceptron tagger, trained here, iterations on validation
    lm         kneser-ney    interpolated modified Kneser-Ney n-grams (Chen & Goodman 1999) over the
                             zoo's own token stream and vocabulary; order on validation (PTB: 5)

Data: zoo.datasets.splits(config), so the same split as the study's runs (dataset, limit,
split_seed; IMDB's validation hold-out). A language model reads the stream of ids the zoo's
Tokenizer gives (zoo.tasks.language: words with <eos> per line, or characters, config.max_vocab):
with limit 0, every token of each split (PTB test: 82,430 tokens); with a limit, the tokens of the
first `limit` windows of each of the zoo's batch_size rows. Metrics: the task's (accuracy as a
fraction, perplexity) on validation and test, test_loss (nats: log loss, or per token) where the
model gives probabilities.
"""

import copy
import math
import random
import re
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from zoo.errors import UserError

# --- interpolated modified Kneser-Ney -------------------------------------------------------------


def discounts(counts):
    """Chen & Goodman's (D1, D2, D3+) of one order from its count-of-counts n1..n4 (counts: the
    order's counts, an int array): Y = n1 / (n1 + 2 n2), D1 = 1 - 2Y n2/n1, D2 = 2 - 3Y n3/n2,
    D3+ = 3 - 4Y n4/n3. Where a count-of-counts is 0 (tiny data) or a discount leaves its range
    (0, 1], (0, 2], (0, 3]: Y for all three (Kneser-Ney's one discount), or 0.5 if Y is no better."""
    n1, n2, n3, n4 = (int(np.count_nonzero(counts == k)) for k in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2) if n1 + 2 * n2 else 0.0
    if n1 and n2 and n3:
        found = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
        if all(0 < d <= k for k, d in enumerate(found, 1)):
            return found
    return (y, y, y) if 0 < y < 1 else (0.5, 0.5, 0.5)


def _find(keys, wanted):
    """Index of each of `wanted` in the sorted array `keys`, -1 where absent (wanted < 0: absent)."""
    at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    hit = (wanted >= 0) & (len(keys) > 0)
    if len(keys):
        hit &= keys[at] == wanted
    return np.where(hit, at, -1)


@dataclass
class Order:
    """The counts of one order k of a KneserNey model. keys: sorted ids of the k-grams seen,
    first word * (number of (k-1)-grams) + id of the (k-1)-gram that ends it (order 1: the word
    ids 0..V-1); a k-gram's id is its index here. counts [k-grams]: raw counts at the highest
    order, continuation counts N1+(. w) below; d: (0, D1, D2, D3+); denominator and backoff
    [(k-1)-gram contexts]: the sum of the counts after the context, and the discounted mass
    D1 N1(h.) + D2 N2(h.) + D3+ N3+(h.)."""

    keys: np.ndarray
    counts: np.ndarray
    d: np.ndarray
    denominator: np.ndarray
    backoff: np.ndarray


@dataclass
class KneserNey:
    """Interpolated modified Kneser-Ney (Chen & Goodman 1999), down to a uniform distribution over
    the `vocabulary` ids:

        P_k(w | h) = (max(c_k(hw) - D_k(c_k(hw)), 0) + gamma_k(h) P_{k-1}(w | h')) / sum_v c_k(hv)

    h' = h without its first token, c_N raw counts, c_k (k < N) continuation counts (the number of
    distinct tokens seen before hw), gamma_k(h) = D_k1 N1(h.) + D_k2 N2(h.) + D_k3+ N3+(h.); a
    context unseen at order k (sum 0) leaves P_{k-1}; P_0 = 1 / vocabulary. Fitted with numpy
    on int id streams; n-grams never cross from one stream (segment) to the next."""

    order: int
    vocabulary: int
    orders: list = field(default_factory=list)  # orders[k - 1]: Order of k

    @classmethod
    def fit(cls, segments, vocabulary, order, fixed_discounts=None):
        """Counts every n-gram up to `order` of `segments` (int id arrays, ids < vocabulary).
        fixed_discounts: (D1, D2, D3+) for every order instead of Chen & Goodman's estimate."""
        segments = [np.asarray(s, "int64") for s in segments]
        tokens = np.concatenate(segments) if segments else np.zeros(0, "int64")
        if len(tokens) and (tokens.min() < 0 or tokens.max() >= vocabulary):
            raise ValueError(f"token ids must lie in [0, {vocabulary}); got {tokens.min()}..{tokens.max()}")
        starts = np.repeat(np.cumsum([0] + [len(s) for s in segments[:-1]]), [len(s) for s in segments])
        depth = np.arange(len(tokens)) - starts  # tokens before each one in its own segment
        ids = [None, tokens]  # ids[k][i]: id of the k-gram ending at i (valid where depth >= k - 1)
        keys, raw, prefix = [np.arange(vocabulary)], [np.bincount(tokens, minlength=vocabulary)], [None]
        for k in range(2, order + 1):
            at = np.flatnonzero(depth >= k - 1)
            size = len(keys[-1])
            if vocabulary * size >= 2 ** 62:
                raise ValueError(f"too many distinct {k - 1}-grams ({size:,}) for int64 keys")
            unique, inverse = np.unique(tokens[at - k + 1] * size + ids[k - 1][at], return_inverse=True)
            ids.append(np.full(len(tokens), -1, "int64"))
            ids[k][at] = inverse
            context = np.empty(len(unique), "int64")  # the (k-1)-gram before the last token
            context[inverse] = ids[k - 1][at - 1]
            keys.append(unique)
            raw.append(np.bincount(inverse, minlength=len(unique)))
            prefix.append(context)
        model = cls(order, vocabulary)
        for k in range(1, order + 1):
            if k == order:
                counts = raw[k - 1]
            else:  # continuation: the distinct (k+1)-grams that end with this k-gram
                counts = np.bincount(keys[k] % len(keys[k - 1]), minlength=len(keys[k - 1]))
            d = np.array((0.0, *(fixed_discounts or discounts(counts))))
            removed = d[np.minimum(counts, 3)]
            if k == 1:
                denominator, backoff = np.array([counts.sum()], "float64"), np.array([removed.sum()])
            else:
                contexts = len(keys[k - 2])
                denominator = np.bincount(prefix[k - 1], weights=counts, minlength=contexts)
                backoff = np.bincount(prefix[k - 1], weights=removed, minlength=contexts)
            model.orders.append(Order(keys[k - 1], counts, d, denominator, backoff))
        return model

    def log_probs(self, windows):
        """ln P(w | history) for windows [n, order] of ids: the last column the token w, the
        others its history (the nearest last), -1 where there is none (a stream's start)."""
        windows = np.asarray(windows, "int64")
        word = windows[:, -1]
        p = np.full(len(windows), 1.0 / self.vocabulary)
        gram, context = word, np.zeros(len(windows), "int64")  # the 1-gram w; the empty context
        for k, level in enumerate(self.orders, 1):
            if k > 1:
                first = windows[:, -k]
                size = len(self.orders[k - 2].keys)
                gram = _find(level.keys, np.where((first >= 0) & (gram >= 0), first * size + gram, -1))
            seen = context >= 0
            denominator = level.denominator[np.maximum(context, 0)]
            seen &= denominator > 0
            count = np.where(gram >= 0, level.counts[np.maximum(gram, 0)], 0)
            mixed = (np.maximum(count - level.d[np.minimum(count, 3)], 0)
                     + level.backoff[np.maximum(context, 0)] * p) / np.where(seen, denominator, 1)
            p = np.where(seen, mixed, p)
            if k < self.order:  # the context of order k + 1: the k-gram that ends before w
                if k == 1:
                    context = windows[:, -2]
                else:
                    first = windows[:, -k - 1]
                    size = len(self.orders[k - 2].keys)
                    context = _find(level.keys, np.where((first >= 0) & (context >= 0), first * size + context, -1))
        return np.log(p)

    def windows(self, stream):
        """[len(stream), order]: each token of `stream` with the tokens before it (-1 before the start)."""
        padded = np.concatenate([np.full(self.order - 1, -1, "int64"), np.asarray(stream, "int64")])
        return np.lib.stride_tricks.sliding_window_view(padded, self.order)

    def loss(self, segments):
        """(mean negative log-probability in nats, tokens) over every token of `segments`."""
        total = count = 0
        for segment in segments:
            total -= float(self.log_probs(self.windows(segment)).sum())
            count += len(segment)
        return total / max(count, 1), count

    def distribution(self, history):
        """P(w | history) for every id w of the vocabulary ([vocabulary] floats; sums to 1)."""
        history = list(history)[-(self.order - 1):] if self.order > 1 else []
        history = [-1] * (self.order - 1 - len(history)) + history
        grid = np.column_stack([np.tile(np.asarray(history, "int64"), (self.vocabulary, 1)),
                                np.arange(self.vocabulary)]) if history else np.arange(self.vocabulary)[:, None]
        return np.exp(self.log_probs(grid))


# --- data ---------------------------------------------------------------------------------------


def lm_streams(config, found, level, standardize="none"):
    """(vocabulary size, {split: [int id arrays]}) of a language model's splits through the zoo's
    own Tokenizer (zoo.tasks.language, built on training text, config.max_vocab): the whole stream of
    each split with limit 0; else the tokens of the first `limit` windows of each of the zoo's
    batch_size rows (inputs and the targets one token on), a segment per row."""
    from zoo.tasks import language

    tokenizer, _, prepared = language.prepare(config, found, level, standardize)
    streams = {}
    for split, ids in prepared.ids.items():  # the runs' own cache of ids
        ids = np.asarray(ids, "int64")
        if not config.limit:
            streams[split] = [ids]
            continue
        rows, length = config.batch_size, config.sequence_length
        per_row = len(ids) // rows
        windows = min(max((per_row - 1) // length, 0), config.limit)
        if not windows:
            raise UserError(f"Too little {split} text for batch_size={rows} and sequence_length={length} "
                            f"({len(ids):,} tokens); lower them or give more text.")
        table = ids[: rows * per_row].reshape(rows, per_row)
        streams[split] = [table[r, : windows * length + 1] for r in range(rows)]
    return len(tokenizer.vocabulary), streams


def _text(text):
    """A review as the vectorizers read it: HTML line breaks (IMDB's <br />) as spaces, lowercase."""
    return re.sub(r"(?i)<br\s*/?>", " ", text).lower()


def _texts_and_labels(found):
    """{split: ([text], [label as a string])}."""
    return {split: ([_text(t) for t, _ in examples], np.asarray([str(y) for _, y in examples]))
            for split, examples in found.items()}


# --- the baselines ------------------------------------------------------------------------------


@dataclass
class Fitted:
    """What fitting one baseline gives: the chosen setting ({param: value}), the task metric on
    validation and test, losses in nats (None where the model gives no probabilities), seconds
    (fitting and selection on validation, not the test scoring), and the validation metric of
    every setting tried ({"C=4": 0.91, ...})."""

    setting: dict
    val: float
    test: float
    val_loss: float | None = None
    test_loss: float | None = None
    seconds: float = 0.0
    tried: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Baseline:
    """One baseline: fit(config, splits) -> Fitted, with splits zoo.datasets.splits(config)[0];
    searched(config): what selection tries, in words (a param); setting: the params it chooses."""

    description: str
    fit: object
    searched: object
    setting: tuple


C_VALUES = (1, 4, 16)  # logistic regression's inverse regularisation, searched on validation
NBSVM_C = (0.1, 1)  # the linear SVM's C
NBSVM_BETA = (0.25, 0.5, 1)  # interpolation (Wang & Manning: 0.25; 1.0 is the SVM on NB features)
ITERATIONS = (1, 2, 3, 5, 8, 12, 16, 20)  # perceptron passes over the training sentences
SHUFFLE_SEED = 0  # the perceptron's order of sentences in each pass after the first
ORDERS = {"word": (5,), "character": tuple(range(3, 11))}  # n-gram orders per token level


def tfidf_logreg(config, found):
    """TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True) fitted on the training texts ->
    sparse [texts, uni+bigrams]; LogisticRegression(liblinear) fitted on train for each C of
    C_VALUES; the C of the best validation accuracy is kept (the smaller on a tie)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    data = _texts_and_labels(found)
    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
    x = {"train": vectorizer.fit_transform(tqdm(data["train"][0], desc="tfidf-logreg: vectorizing", leave=False))}
    x["val"] = vectorizer.transform(data["val"][0])
    best, tried = None, {}
    for c in tqdm(C_VALUES, desc="tfidf-logreg: C", leave=False):
        model = LogisticRegression(C=c, solver="liblinear").fit(x["train"], data["train"][1])
        accuracy = tried[f"C={c:g}"] = float(np.mean(model.predict(x["val"]) == data["val"][1]))
        if best is None or accuracy > best[0]:
            best = (accuracy, c, model)
    accuracy, c, model = best
    seconds = time.perf_counter() - start
    x["test"] = vectorizer.transform(data["test"][0])
    losses = {split: float(log_loss(data[split][1], model.predict_proba(x[split]), labels=model.classes_))
              for split in ("val", "test")}
    return Fitted({"C": c}, accuracy, float(np.mean(model.predict(x["test"]) == data["test"][1])),
                  losses["val"], losses["test"], seconds, tried)


def nbsvm(config, found):
    """NBSVM (Wang & Manning 2012) of two classes: CountVectorizer(ngram_range=(1, 2), binary=True)
    -> x [texts, uni+bigrams] in {0, 1}; r = log((p / |p|_1) / (q / |q|_1)), p and q = 1 + the sum
    of x over the training texts of the second and of the first class; LinearSVC (L2, squared
    hinge) fitted on x * r for each C of NBSVM_C; weights w' = (1 - beta) mean|w| + beta w for each
    beta of NBSVM_BETA; the (C, beta) of the best validation accuracy is kept. An SVM gives no
    probabilities: no loss."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.svm import LinearSVC

    data = _texts_and_labels(found)
    classes = np.unique(data["train"][1])
    if len(classes) != 2:
        raise UserError(f"nbsvm needs two classes; the training labels are {', '.join(classes)}.")
    start = time.perf_counter()
    vectorizer = CountVectorizer(ngram_range=(1, 2), binary=True, lowercase=False)
    x = {"train": vectorizer.fit_transform(tqdm(data["train"][0], desc="nbsvm: vectorizing", leave=False))}
    y = data["train"][1] == classes[1]
    p = 1 + np.asarray(x["train"][y].sum(axis=0)).ravel()
    q = 1 + np.asarray(x["train"][~y].sum(axis=0)).ravel()
    r = np.log(p / p.sum()) - np.log(q / q.sum())
    scaled = lambda matrix: matrix.multiply(r).tocsr()  # noqa: E731  (x * r, row by row)
    x["train"], x["val"] = scaled(x["train"]), scaled(vectorizer.transform(data["val"][0]))

    def accuracy(w, b, split):
        return float(np.mean(np.where(x[split] @ w + b > 0, classes[1], classes[0]) == data[split][1]))

    best, tried = None, {}
    for c in tqdm(NBSVM_C, desc="nbsvm: C", leave=False):
        svm = LinearSVC(C=c, max_iter=5000).fit(x["train"], y)
        w, b = svm.coef_.ravel(), float(svm.intercept_[0])
        for beta in NBSVM_BETA:
            interpolated = (1 - beta) * np.abs(w).mean() + beta * w
            score = tried[f"C={c:g}, beta={beta:g}"] = accuracy(interpolated, b, "val")
            if best is None or score > best[0]:
                best = (score, c, beta, interpolated, b)
    score, c, beta, w, b = best
    seconds = time.perf_counter() - start
    x["test"] = scaled(vectorizer.transform(data["test"][0]))
    return Fitted({"C": c, "beta": beta}, score, accuracy(w, b, "test"), seconds=seconds, tried=tried)


def train_perceptron(sentences, iterations, seed=0, snapshot=None):
    """NLTK's PerceptronTagger(load=False) trained as its own `train` does (its tag dictionary of
    frequent unambiguous words, one update per other word, the sentences shuffled after each
    pass), with random.Random(seed) for the shuffles. sentences: [[(word, tag), ...], ...].
    snapshot(after, tagger): called after each pass in `iterations` (sorted) with a copy whose
    weights are averaged, as `train` leaves them at the end. Returns the tagger after the last."""
    from nltk.tag.perceptron import PerceptronTagger

    tagger = PerceptronTagger(load=False)
    tagger._sentences = []  # filled by _make_tagdict, as in PerceptronTagger.train
    tagger._make_tagdict(sentences)
    tagger.model.classes = tagger.classes
    shuffle = random.Random(seed).shuffle
    last = None
    for done in range(1, max(iterations) + 1):
        for sentence in tagger._sentences:
            words, tags = zip(*sentence)
            prev, prev2 = tagger.START
            context = tagger.START + [tagger.normalize(w) for w in words] + tagger.END
            for i, word in enumerate(words):
                guess = tagger.tagdict.get(word)
                if not guess:
                    features = tagger._get_features(i, word, context, prev, prev2)
                    guess, _ = tagger.model.predict(features)
                    tagger.model.update(tags[i], guess, features)
                prev2, prev = prev, guess
        shuffle(tagger._sentences)
        if done in iterations:
            averaged = copy.copy(tagger)
            averaged._sentences = None
            averaged.model = copy.deepcopy(tagger.model)
            averaged.model.average_weights()
            last = averaged
            if snapshot is not None:
                snapshot(done, averaged)
    return last


def tag_accuracy(tagger, sentences):
    """Share of the words of `sentences` ([(words, tags)]) whose tag `tagger` gets right."""
    right = total = 0
    for words, tags in sentences:
        guessed = [tag for _, tag in tagger.tag(list(words))]
        right += sum(g == t for g, t in zip(guessed, tags))
        total += len(tags)
    return right / max(total, 1)


def perceptron(config, found):
    """NLTK's averaged perceptron tagger (Honnibal's features: the word, its affixes, shape and the
    tags and words around it) trained on the training sentences; after each pass in ITERATIONS its
    averaged weights are scored on validation and the best pass count kept (the fewer on a tie).
    Every word of a sentence counts (token accuracy on the UPOS tags)."""
    train = [list(zip(words, tags)) for words, tags in found["train"]]
    start = time.perf_counter()
    scores = {}
    bar = tqdm(total=max(ITERATIONS), desc="perceptron: passes", leave=False)

    def snapshot(after, tagger):
        bar.update(after - bar.n)
        score = tag_accuracy(tagger, found["val"])
        if not scores or score > max(s for s, _ in scores.values()):
            scores[after] = (score, tagger)
        else:
            scores[after] = (score, None)

    train_perceptron(train, ITERATIONS, seed=SHUFFLE_SEED, snapshot=snapshot)
    bar.close()
    chosen = max(scores, key=lambda n: (scores[n][0], -n))
    score, tagger = scores[chosen]
    seconds = time.perf_counter() - start
    return Fitted({"iterations": chosen}, score, tag_accuracy(tagger, found["test"]), seconds=seconds,
                  tried={f"iterations={n}": s for n, (s, _) in scores.items()})


def kneser_ney(config, found):
    """Interpolated modified Kneser-Ney (KneserNey) fitted on the training stream of the zoo's
    token ids for each order of ORDERS[the dataset's level]; the order of the lowest validation
    perplexity is kept. Perplexity = exp(mean negative log-probability per token) over every token
    of the split, <eos> included."""
    vocabulary, streams = lm_streams(config, found, _level(config), _dataset(config).standardize)
    start = time.perf_counter()
    best, tried = None, {}
    for order in tqdm(ORDERS[_level(config)], desc="kneser-ney: order", leave=False):
        model = KneserNey.fit(streams["train"], vocabulary, order)
        loss, _ = model.loss(streams["val"])
        tried[f"order={order}"] = math.exp(loss)
        if best is None or loss < best[0]:
            best = (loss, model)
        del model
    val_loss, model = best
    seconds = time.perf_counter() - start
    test_loss, _ = model.loss(streams["test"])
    return Fitted({"order": model.order}, math.exp(val_loss), math.exp(test_loss), val_loss, test_loss, seconds,
                  tried)


def _grid(**values):
    return lambda config: "; ".join(f"{name}={','.join(f'{v:g}' for v in vs)}" for name, vs in values.items())


BASELINES = {
    "sentiment": {
        "tfidf-logreg": Baseline(
            "TF-IDF of word uni- and bigrams (sublinear tf) and a logistic regression, C chosen on validation.",
            tfidf_logreg, _grid(C=C_VALUES), ("C",)),
        "nbsvm": Baseline(
            "NBSVM (Wang & Manning 2012): binarized uni- and bigrams scaled by the naive Bayes log-count ratio, "
            "a linear SVM interpolated with its mean weight (beta), C and beta chosen on validation.",
            nbsvm, _grid(C=NBSVM_C, beta=NBSVM_BETA), ("C", "beta")),
    },
    "pos": {
        "perceptron": Baseline(
            "NLTK's averaged perceptron tagger trained on the training sentences, the number of passes "
            "chosen on validation.",
            perceptron, _grid(iterations=ITERATIONS), ("iterations",)),
    },
    "lm": {
        "kneser-ney": Baseline(
            "Interpolated modified Kneser-Ney n-grams (Chen & Goodman) over the zoo's own token stream and "
            "vocabulary, the order chosen on validation.",
            kneser_ney, lambda config: _grid(order=ORDERS[_level(config)])(config), ("order",)),
    },
}


def _dataset(config):
    from zoo import datasets

    return datasets.get(config)


def _level(config):
    """The token level (word, character) of config's dataset."""
    return _dataset(config).level


# --- runs ---------------------------------------------------------------------------------------


def identity(config, name):
    """The params that make a baseline's run the same run: task, dataset, limit, train_limit, split_seed, what is
    searched; a language model's vocabulary (max_vocab) and, with a limit, its windows."""
    params = {"task": config.task, "dataset": config.dataset, "limit": config.limit, "split_seed": config.split_seed,
              "train_limit": config.train_limit,
              "searched": baseline_of(config.task, name).searched(config)}
    if config.task == "lm":
        params["max_vocab"] = config.max_vocab
        if config.limit:
            params.update(batch_size=config.batch_size, sequence_length=config.sequence_length)
    return {key: str(value) for key, value in params.items()}


def baseline_of(task, name):
    """The Baseline `name` of `task`; a UserError naming the valid ones otherwise."""
    table = BASELINES.get(task, {})
    if name not in table:
        raise UserError(f"Invalid baseline {name!r} for task {task!r}; valid choices: {', '.join(table) or 'none'}.")
    return table[name]


def row(study, name, run, metric, skipped=False):
    """One line of the table, from a baseline's MLflow run (its params and metrics)."""
    params, metrics = run.data.params, run.data.metrics
    setting = ", ".join(f"{key}={params[key]}" for key in baseline_of(params["task"], name).setting if key in params)
    return {"study": study, "baseline": name, "setting": setting, "metric": metric,
            "val": metrics.get(f"val_{metric}"), "test": metrics.get(f"test_{metric}"),
            "test_loss": metrics.get("test_loss"), "seconds": metrics.get("train_seconds"),
            "run_id": run.info.run_id, "skipped": skipped}


def run(config, name, study=""):
    """Baseline `name` of config.task fitted on config's data and logged as one MLflow run in the
    task's experiment (zoo.tracking.start_run: FAILED with tag `error` if anything raises);
    not again where a FINISHED run with the same tag `baseline` and identity params exists (it
    says so). The run: tags baseline, baseline_description, study, baseline_selection (the
    validation metric of each setting tried), data_sha256 and zoo.tracking's own; params
    `identity` and the chosen setting (C, beta, iterations, order); metrics val_<metric>,
    test_<metric>, val_loss and test_loss where the model gives probabilities, train_seconds.
    Returns the table row."""
    from zoo import datasets, tasks, tracking

    baseline, metric = baseline_of(config.task, name), tasks.get(config.task).metric
    params, tags = identity(config, name), {"baseline": name, "baseline_description": baseline.description}
    done = tracking.finished_baseline(config.task, tags["baseline"], params)
    if done is not None:
        print(f"{study or config.dataset} {name}: already logged (run {done.info.run_id}), not run again", flush=True)
        return row(study or config.dataset, name, done, metric, skipped=True)
    print(f"== {study or config.dataset} {name}", flush=True)
    with tracking.start_run(config.task, f"{study or config.dataset}-{name}", params=params,
                            tags={**tags, **({"study": study} if study else {})}) as recorder:
        found, sha256 = datasets.splits(config)
        recorder.set_tags({"data_sha256": sha256})
        fitted = baseline.fit(config, found)
        tried = "; ".join(f"{setting}: {value:.6g}" for setting, value in fitted.tried.items())
        print(f"{study or config.dataset} {name}: validation {metric} of each setting tried: {tried}", flush=True)
        recorder.set_tags({"baseline_selection": tried})
        tracking.log_params({key: f"{value:g}" for key, value in fitted.setting.items()})
        metrics = {f"val_{metric}": fitted.val, f"test_{metric}": fitted.test, "train_seconds": fitted.seconds}
        metrics.update({key: value for key, value in (("val_loss", fitted.val_loss), ("test_loss", fitted.test_loss))
                        if value is not None})
        recorder.log_metrics(metrics)
    return row(study or config.dataset, name, tracking.get_run(recorder.run_id), metric)


def studies(names=None):
    """The Study records of `names` (a comma-separated string or a list; default: every study of
    zoo.presets.STUDIES); an unknown name is a UserError naming the valid ones."""
    from zoo.presets import STUDIES

    if isinstance(names, str):
        names = [names]
    wanted = [name.strip() for item in names or [] for name in item.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in STUDIES]
    if unknown:
        raise UserError(f"Invalid study {', '.join(map(repr, unknown))}; valid choices: {', '.join(STUDIES)}.")
    return [STUDIES[name] for name in dict.fromkeys(wanted or STUDIES)]


def run_studies(chosen):
    """Every baseline of each study's task on the study's base configuration: ([table row],
    [(study, baseline, error) of those that failed]). Every study's data files are checked first
    (a missing one: a UserError before anything is logged); a baseline that raises ends its run
    FAILED (tag `error`), prints one line, and the others go on."""
    from zoo import datasets

    for study in chosen:
        datasets.check(study.base)
    rows, failed = [], []
    for study in chosen:
        for name in BASELINES.get(study.base.task, {}):
            try:
                rows.append(run(study.base, name, study.name))
            except Exception as error:  # noqa: BLE001  (its run says why; the next baseline goes on)
                reason = f"{type(error).__name__}: {error}".splitlines()[0][:300]
                print(f"error: baseline {name} of study {study.name} failed: {reason}", file=sys.stderr, flush=True)
                failed.append((study.name, name, reason))
    return rows, failed


def table(rows):
    """The rows as a Markdown table: study, baseline, chosen setting, validation and test metric
    (accuracy in %, perplexity as is), test loss, seconds of fitting and selection."""
    import pandas as pd

    def shown(value, metric):
        if value is None or value != value:
            return "-"
        return f"{value * 100:.2f}%" if metric == "accuracy" else f"{value:.2f}"

    frame = pd.DataFrame([{"study": r["study"], "baseline": r["baseline"], "chosen": r["setting"],
                           "val": f"{r['metric']} {shown(r['val'], r['metric'])}",
                           "test": f"{r['metric']} {shown(r['test'], r['metric'])}",
                           "test loss": "-" if r["test_loss"] is None else f"{r['test_loss']:.4f}",
                           "seconds": "-" if r["seconds"] is None else f"{r['seconds']:.1f}",
                           "run": r["run_id"][:8] + (" (logged before)" if r["skipped"] else "")} for r in rows])
    return frame.to_markdown(index=False) if not frame.empty else "(no baselines)"
