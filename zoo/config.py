"""One experiment's configuration: plain values, validated before anything runs or is logged.

    config = Config(task="adding", cell="vanilla", activation="relu")
    config = apply_overrides(config, ["units=256", "clipping=global_norm"])   # --set on the command line
"""

import dataclasses
import math
import types
import typing
from dataclasses import dataclass

from zoo.errors import UserError

ACTIVATIONS = ("tanh", "relu")  # of the vanilla cells; zoo.cells says which cell takes which
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}  # name -> class in keras.optimizers
POOLINGS = ("last", "mean")
CHARACTER_ENCODERS = ("cnn", "bilstm")  # zoo.layers.CharacterFeatures
SOURCES = ("local", "download")


@dataclass(frozen=True)
class Clipping:
    """A clipping mode: the Keras optimizer option that does it, and its label in variant names."""

    option: str | None  # clipvalue | clipnorm | global_clipnorm, None for no clipping
    label: str


CLIPPING = {
    "none": Clipping(None, "noclip"),
    "value": Clipping("clipvalue", "clipvalue"),  # each gradient element to [-threshold, threshold]
    "norm": Clipping("clipnorm", "clipnorm"),  # each variable's gradient to norm <= threshold
    "global_norm": Clipping("global_clipnorm", "clip"),  # all gradients together to norm <= threshold
}
# fields that do not change a run's results: a finished run counts as done for a configuration
# that differs from it only in these (zoo.compare.matching)
NOT_RESULTS = ("checkpoint_every", "system_metrics")
# fields of the network, its training and the batches only: configurations that differ in nothing
# else read and tokenize the same data (zoo.data.pipelines.prepared: once per process). A field
# missing here costs a second preparation, never wrong data.
NOT_DATA = ("cell", "activation", "recurrent_initializer", "spectral_radius", "units", "layers", "bidirectional",
            "pooling", "embedding_size", "char_encoder", "dropout", "optimizer", "learning_rate", "lr_decay",
            "lr_decay_after", "batch_size", "bucketing", "epochs", "patience", "bptt_steps", "unroll",
            "xla_evaluation", "xla_training", "evaluation_steps_per_execution", "sampled_softmax",
            "mixed_precision", "clipping", "clip_threshold", "grad_norm_every", "checkpoint_every",
            "flow_samples", "system_metrics", "freeze_epochs", "pretrained_lr_scale", "seed")
# fields that apply to some tasks only: not compared for the others (zoo.compare.matching)
ONLY_FOR = {"bucketing": ("sentiment", "pos")}
# a field's value in runs logged before it existed, where that was not its default
BEFORE = {"bucketing": False}
# fields that change how fast a run goes, not what it computes (up to float rounding): never in a
# variant name, not even where they differ between the runs of a sweep or of a comparison
SPEED_FIELDS = ("unroll", "xla_evaluation", "xla_training", "evaluation_steps_per_execution")
# the fields a variant name is made of (Config.variant); other fields varied by a sweep join the
# name, except the seed: runs that differ only in seed are the same variant
VARIANT_FIELDS = ("cell", "activation", "recurrent_initializer", "spectral_radius", "bidirectional",
                  "clipping", "clip_threshold", "reverse", "init_from", "init_from_backward", "freeze_epochs",
                  "pretrained_lr_scale", "seed")


def joins_variant_name(name):
    """Whether field `name`, where it differs between runs, joins their variant names as name + value:
    not when the name is made of it (VARIANT_FIELDS, the seed among them) or it only sets the speed."""
    return name not in VARIANT_FIELDS and name not in SPEED_FIELDS


@dataclass(frozen=True)
class Config:
    """Everything one run depends on. Each field is a command-line `--set field=value`."""

    task: str = "adding"  # a name in zoo.tasks.TASKS: adding | copy | sentiment | pos | lm
    dataset: str = "adding"  # a name in zoo.datasets.DATASETS of that task, or user (data_path)
    cell: str = "vanilla"  # a name in zoo.cells.CELLS: vanilla (zoo.layers.VanillaRNN) | vanilla_keras
    #                        (SimpleRNN) | gru | lstm | tcn (zoo.layers.CausalConvStack, not recurrent)
    activation: str = "tanh"  # tanh | relu (vanilla cells; the others take tanh only: zoo.cells)
    recurrent_initializer: str = "orthogonal"  # orthogonal | identity (IRNN) | glorot_uniform
    spectral_radius: float = 1.0  # gain of the orthogonal or identity recurrent initializer
    units: int = 64  # the state size of each recurrent layer (tcn: channels)
    layers: int = 1  # stacked recurrent layers
    bidirectional: bool = False  # each sequence layer reads both ways, states joined (not for the language model)
    pooling: str = "last"  # many-to-one: last state or mean over the unmasked states
    embedding_size: int = 64  # token tasks
    char_features: int = 0  # tasks that read words (pos): per-word character features, this many
    #                         filters of a width-3 convolution over each word's characters, max-pooled
    #                         and joined to the word embedding (Ma & Hovy 2016); 0 = off
    char_encoder: str = "cnn"  # the character features' encoder: cnn (char_features filters, max over the
    #                            word) | bilstm (an LSTM of char_features units each way, last states joined)
    dropout: float = 0.0  # on the inputs of each recurrent layer
    word_dropout: float = 0.0  # token tasks, in training: this share of the words lose their whole
    #                            embedding (zeroed; character features kept), so that the network
    #                            learns to read a word it has no vector for; Kiperwasser & Goldberg
    #                            (2016) put [UNK] in instead: near enough where [UNK]'s vector, never
    #                            trained when every training word is kept, stays at its small init
    max_vocab: int = 20000  # token tasks: the most frequent training tokens kept (ids beyond: unknown)
    source: str = "local"  # local: files in the data directory | download: TFDS catalog, PTB's URL + sha256
    data_path: str = ""  # dataset=user: a folder with train, valid (or dev) and test files, or one file
    level: str = ""  # dataset=user: word | character: what one token of the user's text is ("": word)
    #                      to split: CSV/TSV (text, label), CoNLL-U, or text, by task (zoo.tasks)
    split_seed: int = 0  # draws the split of a single data file, IMDB's validation set and `limit`'s
    #                      slices: fixed, so that the seeds of a study see the same test set
    optimizer: str = "adam"  # adam | sgd | rmsprop (keras.optimizers)
    learning_rate: float = 1e-3  # the optimizer's step size
    lr_decay: float = 1.0  # after lr_decay_after epochs, the learning rate is multiplied by this each epoch
    lr_decay_after: int = 0  # epochs at the full learning rate (Zaremba et al.'s max_epoch)
    batch_size: int = 64  # examples per step (lm: parallel streams of windows)
    bucketing: bool = True  # sentiment, pos: each training batch from a tenth of the examples of similar length
    #                         (less padding); every batch is padded to its longest example either way
    epochs: int = 5  # passes over the training data (fewer with patience)
    patience: int = 0  # early stopping: epochs without a lower val_loss before stopping (0 = off); with or
    #                    without it, every run tests the weights of its lowest-val_loss epoch (kept_epoch)
    sequence_length: int = 50  # adding, copy: T; token tasks: maximum length / window
    examples: int = 10000  # generated tasks: training examples
    limit: int = 0  # real datasets: at most this many examples per split, drawn at random (lm: the first
    #                 windows of each split, the text cut to them before it is read and tokenized: the
    #                 vocabulary comes from that part too); 0 = all
    train_limit: int = 0  # labelled datasets: at most this many training examples, drawn at random after the
    #                       validation split is made (which stays whole, as test does): a small labelled set; 0 = all
    bptt_steps: int | None = None  # truncated BPTT in zoo.layers.VanillaRNN (cell=vanilla only)
    unroll: bool = False  # gru, lstm, vanilla_keras over fixed-length windows (the language model's):
    #                       Keras's unroll, the steps as graph ops instead of a loop; faster for short windows
    #                       on a CPU (on a GPU the GRU and LSTM run cuDNN's kernel instead, never unrolled)
    xla_evaluation: bool = False  # evaluate (validation, test) with XLA; for fixed-shape batches only
    #                               (the language model's): every new batch shape compiles again
    xla_training: bool = False  # compile the training step with XLA (Keras's jit_compile=True); false leaves
    #                             Keras's "auto", off on a CPU and on where TensorFlow sees a GPU; evaluation
    #                             follows it unless xla_evaluation. For fixed-shape batches only, as
    #                             xla_evaluation; never part of a run's name. The Tiny Shakespeare and PTB studies
    #                             set it for the tcn: a step 4.28x faster on Tiny Shakespeare on an AVX2
    #                             machine, as fast on one with AVX-512, PTB's 1.22x faster there
    #                             (benchmarks/xla_training.py, docs/benchmarks.md)
    evaluation_steps_per_execution: int = 1  # batches per call of the compiled evaluation (Keras's
    #                                          steps_per_execution, for evaluation only; training keeps 1)
    sampled_softmax: int = 0  # lm: train the softmax on the target and this many sampled ids per step
    #                           (tf.nn.sampled_softmax_loss, log-uniform over the frequency-ordered vocabulary;
    #                           Jean et al. 2015); evaluation keeps the full softmax; 0 = the full softmax
    mixed_precision: bool = False  # float16 compute with float32 weights (Keras's mixed_float16 policy), the loss
    #                                scaled by Keras's LossScaleOptimizer; for a GPU (gru, lstm, vanilla_keras)
    clipping: str = "none"  # none | value (clipvalue) | norm (clipnorm) | global_norm (global_clipnorm)
    clip_threshold: float = 1.0  # the clipping's bound: a value, a norm or the global norm
    grad_norm_every: int = 10  # log grad_norm every N training steps
    checkpoint_every: int = 500  # save the training state (zoo.checkpoints) every N steps, and at
    #                              each epoch end; 0 = at epoch ends only
    flow_samples: int = 4  # gradient-flow snapshots per run (on one fixed batch)
    system_metrics: bool = True  # MLflow's system metrics (CPU, memory, disk, network: system/* in the run's
    #                              charts), sampled every 10 s (MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL); false = off
    init_from: str = ""  # token tasks: a FINISHED run whose embedding and sequence layers this run starts from,
    #                      its tokenizer's vocabulary kept; the head is new (zoo.transfer); "" = from scratch
    init_from_backward: str = ""  # bidirectional: the run (a language model with reverse=true) whose layers
    #                               start the backward halves; "" = they start fresh
    freeze_epochs: int = 0  # with init_from: the first N epochs train the new layers alone
    pretrained_lr_scale: float = 1.0  # with init_from: the carried layers' updates are this share of the
    #                                   optimizer's (their learning rate, scaled)
    reverse: bool = False  # lm: read every text backwards (a backward language model, for init_from_backward)
    seed: int = 0  # weights' initialisation, dropout and the order of the training examples

    def variant(self, extra_fields=()):
        """A short name for what is being compared, e.g. `vanilla-relu-identity-clip1`: the cell,
        its activation where the cell has a choice, a non-default initializer, bi, the clipping,
        reverse, the runs it starts from (zoo.transfer);
        then each of `extra_fields` (those a sweep varies) that joins_variant_name, as name + value."""
        from zoo.cells import CELLS

        parts = [self.cell]
        if len(CELLS[self.cell].activations) > 1:
            parts.append(self.activation)
        if self.recurrent_initializer != "orthogonal" or self.spectral_radius != 1.0:
            gain = "" if self.spectral_radius == 1.0 else f"{self.spectral_radius:g}"
            parts.append(f"{self.recurrent_initializer}{gain}")
        if self.bidirectional:
            parts.append("bi")
        clip = CLIPPING[self.clipping]
        parts.append(clip.label + ("" if clip.option is None else f"{self.clip_threshold:g}"))
        if self.reverse:
            parts.append("reverse")
        if self.init_from:  # the source runs (a short id each) and how they are fine-tuned
            sources = "+".join(run_id[:8] for run_id in (self.init_from, self.init_from_backward) if run_id)
            parts.append(f"pretrained{sources}-freeze{self.freeze_epochs}-lr{self.pretrained_lr_scale:g}")
        parts += [f"{name}{getattr(self, name)}" for name in extra_fields if joins_variant_name(name)]
        return "-".join(parts)


FIELDS = {field.name: field for field in dataclasses.fields(Config)}
# upper bounds of sizes: beyond them a run cannot fit this kind of machine (or is a typo)
LIMITS = {"units": 8192, "layers": 32, "embedding_size": 8192, "char_features": 1024, "max_vocab": 5_000_000,
          "batch_size": 65536, "epochs": 100_000, "sequence_length": 100_000, "examples": 100_000_000,
          "evaluation_steps_per_execution": 10_000, "flow_samples": 1000,
          "sampled_softmax": 1_000_000}


def _one_of(name, value, valid):
    if value not in valid:
        raise UserError(f"Invalid {name} {value!r}; valid choices: {', '.join(map(str, valid))}.")


def validate(config):
    """Raises UserError (one line, naming the valid choices) for anything that cannot run."""
    from zoo import tasks
    from zoo.cells import CELLS

    choices = {"task": tuple(tasks.TASKS), "cell": tuple(CELLS), "optimizer": tuple(OPTIMIZERS),
               "clipping": tuple(CLIPPING), "pooling": POOLINGS, "source": SOURCES}
    for name, valid in choices.items():
        _one_of(name, getattr(config, name), valid)
    if config.level:
        from zoo.text import LEVELS

        _one_of("level", config.level, LEVELS)
    for name in FIELDS:  # nan and inf are not numbers a run can use
        value = getattr(config, name)
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"Invalid {name} {value!r}; expected a finite number.")
    for name, most in LIMITS.items():
        if getattr(config, name) > most:
            raise UserError(f"Invalid {name} {getattr(config, name)!r}; expected at most {most:,} (more cannot "
                            "fit in memory here).")
    cell, task = CELLS[config.cell], tasks.get(config.task)
    if config.activation not in cell.activations:
        raise UserError(f"Invalid activation {config.activation!r} for cell {config.cell!r}; valid choices: "
                        f"{', '.join(cell.activations)}.")
    if config.recurrent_initializer not in cell.initializers:
        raise UserError(f"Invalid recurrent_initializer {config.recurrent_initializer!r} for cell "
                        f"{config.cell!r}; valid choices: {', '.join(cell.initializers)}.")
    for name in ("units", "layers", "embedding_size", "batch_size", "epochs", "examples", "max_vocab",
                 "grad_norm_every", "flow_samples", "evaluation_steps_per_execution"):
        if getattr(config, name) < 1:
            raise UserError(f"Invalid {name} {getattr(config, name)!r}; expected an integer >= 1.")
    if config.sequence_length < 2:
        raise UserError(f"Invalid sequence_length {config.sequence_length!r}; expected an integer >= 2.")
    if config.learning_rate <= 0 or config.spectral_radius <= 0:
        raise UserError("Invalid learning_rate or spectral_radius; both must be > 0.")
    for name in ("dropout", "word_dropout"):
        if not 0.0 <= getattr(config, name) < 1.0:
            raise UserError(f"Invalid {name} {getattr(config, name)!r}; expected a value in [0, 1).")
    if config.word_dropout and task.inputs != "tokens":
        raise UserError(f"Invalid word_dropout with task {config.task!r}: it reads features, not tokens; use "
                        "word_dropout=0.")
    if not 0.0 < config.lr_decay <= 1.0 or config.lr_decay_after < 0:
        raise UserError(f"Invalid lr_decay {config.lr_decay!r} or lr_decay_after {config.lr_decay_after!r}; "
                        "expected a factor in (0, 1] (1 = no decay) and a number of epochs >= 0.")
    if config.patience < 0:
        raise UserError(f"Invalid patience {config.patience!r}; expected 0 (no early stopping) or more epochs.")
    if config.char_features < 0:
        raise UserError(f"Invalid char_features {config.char_features!r}; expected 0 (off) or a number of filters.")
    if config.char_features and not task.characters:
        valid = [name for name, spec in tasks.TASKS.items() if spec.characters]
        raise UserError(f"Invalid char_features with task {config.task!r}: character features are built for "
                        f"task={' and '.join(valid)} only; use char_features=0.")
    if config.char_encoder not in CHARACTER_ENCODERS:
        raise UserError(f"Invalid char_encoder {config.char_encoder!r}; valid choices: {', '.join(CHARACTER_ENCODERS)}.")
    if config.checkpoint_every < 0:
        raise UserError(f"Invalid checkpoint_every {config.checkpoint_every!r}; expected 0 (epoch ends only) or "
                        "a number of steps.")
    if config.train_limit < 0 or (config.train_limit and task.language_model):
        raise UserError(f"Invalid train_limit {config.train_limit!r}; expected 0 (all) or a number of training "
                        "examples (not with task=lm: use limit).")
    if config.limit < 0:
        raise UserError(f"Invalid limit {config.limit!r}; expected 0 (all) or a positive integer.")
    if config.seed < 0 or config.split_seed < 0:
        raise UserError(f"Invalid seed {config.seed!r} or split_seed {config.split_seed!r}; expected integers >= 0.")
    if config.bidirectional and not cell.recurrent:
        raise UserError(f"Invalid bidirectional=true with cell {config.cell!r}: it reads left to right "
                        "only; use bidirectional=false.")
    if config.bidirectional and task.causal:
        raise UserError(f"Invalid bidirectional=true with task {config.task!r}: it predicts what comes next "
                        "and must not read the future; use bidirectional=false.")
    if CLIPPING[config.clipping].option is not None and config.clip_threshold <= 0:
        raise UserError(f"Invalid clip_threshold {config.clip_threshold!r} with clipping="
                        f"{config.clipping}; expected > 0, or clipping=none.")
    if config.bptt_steps is not None:
        if config.bptt_steps < 1:
            raise UserError(f"Invalid bptt_steps {config.bptt_steps!r}; expected none or an integer >= 1.")
        if not cell.truncated_bptt:
            valid = [name for name, c in CELLS.items() if c.truncated_bptt]
            raise UserError(f"Invalid bptt_steps with cell {config.cell!r}: truncated BPTT is "
                            f"implemented by cell={' and '.join(valid)} only; use bptt_steps=none.")
    if config.sampled_softmax < 0 or (config.sampled_softmax and not task.language_model):
        raise UserError(f"Invalid sampled_softmax {config.sampled_softmax!r} with task {config.task!r}; expected 0, "
                        "or with task=lm a number of sampled ids >= 1.")
    if config.mixed_precision and (not cell.mixed_precision or config.sampled_softmax):
        valid = [name for name, c in CELLS.items() if c.mixed_precision]
        raise UserError(f"Invalid mixed_precision=true with cell {config.cell!r} and sampled_softmax="
                        f"{config.sampled_softmax}: it needs cell {', '.join(valid)} and the full softmax; use "
                        "mixed_precision=false.")
    if config.reverse and not task.causal:
        raise UserError(f"Invalid reverse=true with task {config.task!r}: only a language model reads its text "
                        "backwards; use reverse=false.")
    pretrained = config.init_from or config.init_from_backward
    if pretrained and task.inputs != "tokens":
        raise UserError(f"Invalid init_from with task {config.task!r}: a run starts from another's embedding and "
                        "sequence layers only where it reads tokens; leave init_from empty.")
    if config.init_from_backward and not (config.bidirectional and config.init_from):
        raise UserError("Invalid init_from_backward without bidirectional=true and init_from: it starts the "
                        "backward halves of a bidirectional network whose forward halves come from init_from.")
    if config.freeze_epochs < 0 or (config.freeze_epochs and not pretrained):
        raise UserError(f"Invalid freeze_epochs {config.freeze_epochs!r}; expected 0, or epochs >= 1 with init_from.")
    if not 0.0 <= config.pretrained_lr_scale <= 1.0:
        raise UserError(f"Invalid pretrained_lr_scale {config.pretrained_lr_scale!r}; expected a share in [0, 1].")
    return config


def _parse(name, text):
    """A `--set` value as the field's type: int, float, bool, str, or 'none' for optional ints."""
    kind = FIELDS[name].type
    optional = isinstance(kind, types.UnionType) and type(None) in typing.get_args(kind)
    if optional:
        if text.lower() == "none":
            return None
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    try:
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        return text
    except ValueError:
        expected = {bool: "true or false", int: "an integer", float: "a number"}[kind]
        raise UserError(f"Invalid value {text!r} for {name}; expected {expected}"
                        f"{' or none' if optional else ''}.") from None


def parse_assignment(assignment):
    """'units=256' -> ('units', 256), checked against the Config fields."""
    name, sep, text = assignment.partition("=")
    name = name.strip()
    if not sep:
        raise UserError(f"Invalid override {assignment!r}; expected field=value, e.g. units=128.")
    if name not in FIELDS:
        raise UserError(f"Unknown configuration field {name!r}; valid fields: {', '.join(FIELDS)}.")
    return name, _parse(name, text.strip())


def apply_overrides(config, assignments):
    """A validated copy of `config` with every 'field=value' of `assignments` applied."""
    return validate(dataclasses.replace(config, **dict(map(parse_assignment, assignments))))


def parse_grid(assignments):
    """['cell=vanilla,gru', 'seed=0,1'] -> {'cell': ['vanilla', 'gru'], 'seed': [0, 1]}."""
    grid = {}
    for assignment in assignments:
        name, _, text = assignment.partition("=")
        if not text:
            raise UserError(f"Invalid grid {assignment!r}; expected field=v1,v2,..., e.g. cell=vanilla,gru.")
        grid[name.strip()] = [parse_assignment(f"{name}={value}")[1] for value in text.split(",")]
    return grid


def field_meanings():
    """{field: its meaning}, from the comment beside each Config field in this file (the lines of
    a comment that goes on below it joined); "" for a field without one."""
    import inspect
    import re

    meanings, current = {}, None
    for line in inspect.getsource(Config).splitlines():
        field = re.match(r"    (\w+): [^=#]+=[^#]*(?:#\s*(.*))?$", line)
        more = re.match(r"    \s*#\s*(.*)$", line)
        if field:
            current = field[1]
            meanings[current] = (field[2] or "").strip()
        elif more and current:
            meanings[current] = f"{meanings[current]} {more[1].strip()}".strip()
        else:
            current = None
    return meanings


def reference():
    """docs/configuration.md: every Config field with its type, default and meaning (field_meanings);
    `python -m zoo docs` writes it."""
    meanings = field_meanings()
    rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for field in dataclasses.fields(Config):
        kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))
        rows.append(f"| `{field.name}` | {kind.replace('|', '&#124;')} | `{field.default!r}` | "
                    f"{meanings.get(field.name, '').replace('|', '&#124;')} |")
    return "\n".join([
        "# Configuration fields", "",
        "Every run is one `zoo.config.Config`: `--set FIELD=VALUE` on the command line (`python -m zoo train`, "
        "`sweep`, the experiment scripts), `Config(field=value)` in Python. A bad value is one line naming the "
        "field and what it takes (exit code 2). Written by `python -m zoo docs` from the comments in "
        "`zoo/config.py`; a test fails when a field has none.", "", *rows, ""])
