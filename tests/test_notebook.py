"""The learner's notebook (notebooks/rnn_zoo_tour.ipynb) runs top to bottom in a fresh kernel, so it
cannot rot; it is committed without outputs."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "rnn_zoo_tour.ipynb"


def test_the_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.mark.scripts  # end to end on real data, as the experiment scripts: make test-scripts
def test_the_notebook_runs_top_to_bottom_in_a_fresh_kernel(tmp_path, monkeypatch):
    if not (Path(__file__).resolve().parents[2] / "shared" / "data" / "sst2").exists():
        pytest.skip("no SST-2 in ../shared/data")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # its runs: sqlite:///mlruns/mlflow.db beside it
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "\n".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                        for output in cell.outputs)
    assert "largest difference" in outputs and "global_norm" in outputs
    assert "positive" in outputs or "negative" in outputs or "label" in outputs, outputs[-2000:]
    assert (tmp_path / "mlruns" / "mlflow.db").exists()
