"""What the zoo's programs (the command line, the experiment scripts, the benchmarks, a Ray
trial's worker) set for their whole process; importing `zoo` itself changes nothing there.

    import zoo.program  # noqa: F401  (first, before anything imports TensorFlow)

- TensorFlow is imported once with file descriptor 2 pointed at /dev/null: TensorFlow 2.21's
  libraries write their oneDNN and CUDA notices through absl before it is initialised, which
  neither TF_CPP_MIN_LOG_LEVEL nor any other setting silences (zoo.compat WORKAROUNDS: "quiet
  TensorFlow import"). An import error still raises (and prints).
- MLflow: no progress bar per artifact read; a tracking server that does not answer is retried
  twice (backoff 1 s, 5 s timeout per request) instead of MLflow's about 4 minutes per call, then
  the zoo says so in one line (the training state stays in the run's checkpoint). Variables
  already set win: set them to wait longer. Its system-metrics monitor logs no notices (a run's
  own store errors are the run's to report).
- `ray_worker`: the same for a Ray sweep's worker processes, as Ray starts them (their setup hook).
"""

import logging
import os

SETTINGS = {"TF_CPP_MIN_LOG_LEVEL": "3", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}


def _import_tensorflow_quietly():
    saved, quiet = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(quiet, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(quiet)


for _name, _value in SETTINGS.items():
    os.environ.setdefault(_name, _value)
_import_tensorflow_quietly()
logging.getLogger("mlflow.system_metrics").setLevel(logging.CRITICAL)


def ray_worker():
    """Ray's worker_process_setup_hook for a sweep's workers (zoo.cluster.connect). Ray imports
    this module first (this process's settings: TensorFlow's import quiet), then this imports what
    a trial trains with, as the worker starts: Ray starts the job's first workers as soon as the
    driver connects, so they import while the driver still sets up Tune."""
    import zoo.train  # noqa: F401
