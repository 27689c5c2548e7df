"""Part-of-speech tagging, many-to-many: one UPOS tag per word.

UD English EWT v2.16: 12,544 training, 2,001 dev and 2,077 test sentences, 17 UPOS tags. Each word
id goes through an embedding and the recurrent network, and every step is classified; padding is
left out of the loss and the accuracy. Compares the study's cells (vanilla tanh, IRNN,
GRU, LSTM, tcn), each at its own recipe from the study's search, without and with clipping,
as one MLflow sweep; `--preset full` is the study's grid (ewt), as experiments/study.py runs it. `--set bidirectional=true` reads each sentence both ways.

    python experiments/pos_tagging.py                       # quick: 2,000 sentences a split
    python experiments/pos_tagging.py --preset full         # bidirectional, all sentences
    python experiments/pos_tagging.py --set dataset=user --set data_path=my.conllu
"""

import sys

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

from zoo.experiment import main  # noqa: E402
from zoo.presets import POS_TAGGING  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(__doc__, POS_TAGGING))
