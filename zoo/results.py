"""What a run and a sweep give back (zoo.train runs them, zoo.cluster runs them as Ray trials)."""

import dataclasses
from dataclasses import dataclass

from zoo.errors import UserError


@dataclass
class RunResult:
    run_id: str
    name: str
    status: str  # FINISHED, FAILED (diverged: nan_step, nan_cause), or ERROR (a sweep's child that could not run)
    metrics: dict
    nan_step: int | None = None
    nan_cause: str | None = None  # FAILED: what became non-finite, and where
    error: str | None = None  # ERROR: why it could not run (one line)
    history: dict = dataclasses.field(default_factory=dict)  # Keras History.history
    flow: list = dataclasses.field(default_factory=list)  # [(epochs trained, {layer: ||dL/dh_t||})]
    steps_per_epoch: int = 0
    model: object = dataclasses.field(default=None, repr=False)  # the trained keras.Model (run in this process)

    def load_model(self):
        """The trained keras.Model: the one this process trained, else the run's logged model."""
        if self.model is not None:
            return self.model
        if self.status != "FINISHED":
            raise UserError(f"Run {self.name} is {self.status}: it logged no model to load.")
        import mlflow

        import zoo.layers  # noqa: F401  (registers the zoo's layers for loading)

        return mlflow.keras.load_model(f"runs:/{self.run_id}/model")

    def summary(self):
        """One line for the command line."""
        if self.status == "FAILED":
            return f"run {self.name} diverged: {self.nan_cause}; MLflow run {self.run_id} is FAILED"
        if self.status == "ERROR":
            return f"run {self.name} could not run: {self.error}"
        shown = ", ".join(f"{k} {v:.4g}" for k, v in self.metrics.items() if k.startswith("test_"))
        return f"run {self.name} finished: {shown}; MLflow run {self.run_id}"


@dataclass
class SweepResult:
    run_id: str  # the parent run
    results: list  # a RunResult per configuration
    table: object  # the comparison (pandas DataFrame), also logged to the parent
