import importlib.util
import os
from pathlib import Path

import pytest

import zoo.program  # noqa: E402, F401  (the test process is a program: zoo.program's settings)

# Every Ray node of the tests, and every driver, on 127.0.0.1 (Ray reads this when first imported;
# zoo.cluster.connect sets it for a loopback --address too): no test traffic off loopback.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
LOOPBACK_NODE = {"node_ip_address": "127.0.0.1", "num_cpus": 1, "include_dashboard": False}


@pytest.fixture
def script():
    """Loads experiments/<name>.py as a module."""

    def load(name):
        path = Path(__file__).resolve().parents[1] / "experiments" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory):
    """An MLflow sqlite database as MLflow creates it (its tables and the Default experiment), made
    once per test process: creating one runs MLflow's schema migrations, seconds of CPU each time."""
    from mlflow import MlflowClient

    database = tmp_path_factory.mktemp("empty-store") / "mlflow.db"
    MlflowClient(f"sqlite:///{database}").search_experiments(max_results=1)
    return database


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A temporary working directory with no MLflow store in it yet, MLFLOW_TRACKING_URI unset."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


def copy_store(empty_store, folder):
    """Makes `folder`/mlruns/mlflow.db a copy of empty_store, its Default experiment's artifacts under
    `folder`/mlruns/0 as MLflow would have put them there."""
    import shutil
    import sqlite3

    (folder / "mlruns").mkdir()
    shutil.copyfile(empty_store, folder / "mlruns" / "mlflow.db")
    with sqlite3.connect(folder / "mlruns" / "mlflow.db") as database:
        database.execute("UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
                         (str(folder / "mlruns" / "0"),))
    database.close()


@pytest.fixture
def store(workdir, empty_store):
    """A fresh default MLflow store (sqlite:///mlruns/mlflow.db, a copy of empty_store) in a
    temporary working directory."""
    copy_store(empty_store, workdir)
    return workdir


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gone_ray_cluster(monkeypatch):
    """Ray's note of the last cluster started on this machine (ray_current_cluster, in a temporary
    RAY_TMPDIR) naming a loopback address where nothing listens, as a killed `ray start` or test
    Cluster leaves it: ray.init(address=None) would retry it for minutes. Returns that address."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths live under it
    (folder / "ray").mkdir()
    address = f"127.0.0.1:{free_port()}"
    (folder / "ray" / "ray_current_cluster").write_text(address)
    monkeypatch.setenv("RAY_TMPDIR", str(folder))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    yield address
    shutil.rmtree(folder, ignore_errors=True)


class MlflowServer:
    """A real `mlflow server` on 127.0.0.1 over a sqlite database in `folder`: start, stop, start again."""

    def __init__(self, folder):
        self.folder, self.port, self.process = Path(folder), free_port(), None
        self.uri = f"http://127.0.0.1:{self.port}"

    def start(self, timeout=90):
        from zoo import server
        from zoo.errors import UserError

        try:
            self.process = server.launch_mlflow(f"sqlite:///{self.folder}/server.db", self.folder / "artifacts",
                                                "127.0.0.1", self.port, self.folder / "mlflow.log", timeout)
        except UserError as error:
            pytest.skip(str(error))
        return self

    def stop(self):
        from zoo import server

        if self.process is not None:
            server.stop_process(self.process.pid)
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def mlflow_server(tmp_path):
    """A started MlflowServer (stopped at the end, whatever happens)."""
    server = MlflowServer(tmp_path / "server")
    server.folder.mkdir()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def postgres_server():
    """A team tracking server (zoo.server: mlflow server on PostgreSQL, with authentication) on free
    ports, MLflow's login variables set to its administrator's; its URI.
    Skips, with the reason, where PostgreSQL or its Python driver is missing. Its folder is one
    that user postgres can reach (pytest's tmp_path is private to root)."""
    import shutil
    import tempfile

    from zoo import server
    from zoo.errors import UserError

    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg (PostgreSQL's driver for MLflow) is not installed: make install")
    if not (shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))):
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="zoo-server-"))
    folder.chmod(0o755)
    try:
        uri = server.start(folder, port=free_port(), database_port=free_port())
    except UserError as error:
        server.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"the tracking server did not start: {error}")
    try:
        with pytest.MonkeyPatch.context() as patch:  # the zoo's commands log in as MLflow's users do
            for name, value in server.credentials(folder).items():
                patch.setenv(name, value)
            yield uri
    finally:
        server.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


# The test files by their time on one core, longest first (--durations, 2026-12-06). `make test`
# hands its two workers one test at a time (-n 2 --dist load) in this order, so the run does not
# end with one worker on a long file while the other waits. A module fixture (test_export's
# `exported`, test_transfer's `lms`) is built once on each worker that runs one of its tests
# (xdist's loadgroup would keep a file on one worker, but under pytest 9.2 it groups nothing:
# pytest-xdist issue 1386). Files not named here run after these, in their own order.
LONGEST_FIRST = ("test_export.py", "test_data.py", "test_study.py", "test_engine.py", "test_transfer.py",
                 "test_gradient_lab.py", "test_compat.py", "test_faults.py",
                 "test_layers.py", "test_baselines.py", "test_new_datasets.py", "test_corpus.py", "test_program.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's own order stays
