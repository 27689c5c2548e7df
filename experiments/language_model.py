"""Language modelling, many-to-many: predict every next token; then generate (one-to-many).

PTB at word level (default; perplexity over the token stream with one <eos> per line) or Tiny
Shakespeare at character level (`--set dataset=tinyshakespeare`). Trained as Zaremba et al.
(2014) do: the stream is cut into batch-many contiguous rows, read in windows of
sequence_length steps, and the state is carried from window to window (reset each epoch). At the
end of each run, samples at temperatures 0.5, 1.0 and 1.5 are logged (samples.txt). Compares the study's cells (vanilla tanh, IRNN,
GRU, LSTM, tcn), each at its own recipe from the study's search, without and with clipping,
as one MLflow sweep; `--preset full` is the study's grid (ptb; tinyshakespeare with --preset tinyshakespeare), as experiments/study.py runs it.

    python experiments/language_model.py                    # quick: 100 windows of 20 x 35 tokens
    python experiments/language_model.py --preset full      # the PTB study: Zaremba's "small", 6 epochs, 2 seeds
    python experiments/language_model.py --preset tinyshakespeare   # the Tiny Shakespeare study (characters)
    python -m zoo score --run RUN_ID "john is driving a car" "john is driving a cat"
"""

import sys

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

from zoo.experiment import main  # noqa: E402
from zoo.presets import LANGUAGE_MODEL  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(__doc__, LANGUAGE_MODEL))
