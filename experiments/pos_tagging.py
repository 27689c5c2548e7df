"""Part-of-speech tagging, many-to-many: one UPOS tag per word.

UD English EWT v2.16: 12,544 training, 2,001 dev and 2,077 test sentences, 17 UPOS tags. Each word
id goes through an embedding and the recurrent network, and every step is classified; padding is
left out of the loss and the accuracy. Compares vanilla tanh, IRNN, GRU and LSTM, without and
with clipping, as one MLflow sweep; `--set bidirectional=true` reads each sentence both ways.

    python experiments/pos_tagging.py                       # quick: 2,000 sentences a split
    python experiments/pos_tagging.py --preset full         # bidirectional, all sentences
    python experiments/pos_tagging.py --set dataset=user --set data_path=my.conllu
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from zoo.config import Config  # noqa: E402
from zoo.experiment import main  # noqa: E402

PRESETS = {
    "quick": Config(task="pos", dataset="ud_english_ewt", limit=2000, max_vocab=10000,
                    embedding_size=32, units=32, epochs=2, batch_size=32, learning_rate=2e-3),
    "full": Config(task="pos", dataset="ud_english_ewt", bidirectional=True, max_vocab=20000,
                   embedding_size=100, units=128, epochs=10, batch_size=32, learning_rate=1e-3),
}

if __name__ == "__main__":
    sys.exit(main(__doc__, PRESETS))
