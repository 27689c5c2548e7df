"""Sentiment, many-to-one: read a review, emit one label (positive or negative).

IMDB (default; 25,000 training reviews, of which a tenth is held out for validation, and 25,000
test reviews) or SST-2 (`--set dataset=sst2`: 67,349 GLUE training phrases and sentences, the 872
dev sentences for validation, the 1,821 labelled test sentences). The recurrent network reads the
token ids and its last state (or the mean of its states) is classified. Metrics: accuracy and ROC
AUC. Compares the study's cells (vanilla tanh, IRNN,
GRU, LSTM, tcn), each at its own recipe from the study's search, without and with clipping,
as one MLflow sweep; `--preset full` is the study's grid (imdb; sst2 with --set dataset=sst2), as experiments/study.py runs it.

    python experiments/sentiment.py                         # quick: 2,000 reviews a split
    python experiments/sentiment.py --preset full
    python experiments/sentiment.py --preset full --set dataset=sst2 --set sequence_length=64
    python experiments/sentiment.py --set dataset=sst2 --grid cell=gru,lstm --grid bidirectional=false,true
"""

import sys

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

from zoo.experiment import main  # noqa: E402
from zoo.presets import SENTIMENT  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(__doc__, SENTIMENT))
