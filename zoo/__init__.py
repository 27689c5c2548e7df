"""The RNN model zoo. Importing it loads TensorFlow once, without the lines TensorFlow's C++ side
prints to stderr before its logging starts (zoo.compat WORKAROUNDS: "quiet TensorFlow import")."""

import os


def _import_tensorflow_quietly():
    """`import tensorflow` with file descriptor 2 pointed at /dev/null: TensorFlow 2.21's libraries
    write their oneDNN and CUDA notices through absl before it is initialised, which neither
    TF_CPP_MIN_LOG_LEVEL nor any other setting silences. An import error still raises (and prints)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved, quiet = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(quiet, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(quiet)


os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # a bar per small JSON read is noise
# A tracking server that does not answer: MLflow's defaults retry for about 4 minutes per call (7
# retries, backoff 2, 120 s timeout). The zoo retries twice (backoff 1 s, 5 s timeout per request),
# then says so in one line (its training state stays in the run's checkpoint); set these
# variables to wait longer.
for _name, _value in (("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"), ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1"),
                      ("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")):
    os.environ.setdefault(_name, _value)
_import_tensorflow_quietly()
