"""Sweeps on a real Ray cluster of two nodes on 127.0.0.1 (zoo.cluster), logging to a real team
tracking server (zoo.server: mlflow server on PostgreSQL); a node killed during a trial."""

import importlib.util
import json
import os
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import LOOPBACK_NODE
from zoo.__main__ import main

pytestmark = pytest.mark.cluster

TINY = ["--set", "task=adding", "--set", "sequence_length=20", "--set", "units=8", "--set", "batch_size=50"]


@pytest.fixture
def ray_cluster(tmp_path):
    """A head node and a second node on 127.0.0.1, 1 CPU each, each with its own working folder
    (ZOO_PROJECT_DIR: tmp_path/head and tmp_path/second, as if each machine had its own clone of the
    project: no common mlruns/, so no shared disk for checkpoints): (cluster, second node). Skips
    where Ray cannot start."""
    cluster_utils = pytest.importorskip("ray.cluster_utils", reason="Ray is not installed: make install")
    fast_failure = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 1000,
                    "health_check_failure_threshold": 3}
    for node in ("head", "second"):
        (tmp_path / node).mkdir()
    try:
        cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={
            **LOOPBACK_NODE, "_system_config": fast_failure, "env_vars": {"ZOO_PROJECT_DIR": str(tmp_path / "head")}})
    except Exception as error:  # noqa: BLE001  (Ray's start fails in many ways; the reason is printed)
        pytest.skip(f"Ray could not start a head node: {error}")
    try:
        second = cluster.add_node(**LOOPBACK_NODE, env_vars={"ZOO_PROJECT_DIR": str(tmp_path / "second")})
        cluster.wait_for_nodes(timeout=60)
        assert cluster.address.startswith("127.0.0.1:") and second.node_ip_address == "127.0.0.1"
        yield cluster, second
    finally:
        cluster.shutdown()


def children(task, parent=None):
    from zoo import tracking

    frame = tracking.runs(task)
    return frame[frame["tags.mlflow.parentRunId"].notna()] if parent is None else tracking.runs(task, parent)


def test_sweep_runs_trials_on_both_nodes_and_logs_to_the_postgres_server(ray_cluster, postgres_server, tmp_path,
                                                                         monkeypatch):
    cluster, second = ray_cluster
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", postgres_server)
    argv = ["sweep", "--executor", "ray", "--address", cluster.address, "--grid", "cell=vanilla,gru",
            "--grid", "seed=0,1", "--set", "examples=400", "--set", "epochs=2", *TINY]
    assert main(argv) == 0
    assert main(argv) == 0  # the same command again: every configuration has its run, nothing more runs
    from zoo import compare, tracking

    runs = children("adding")
    assert len(runs) == 4 and set(runs["status"]) == {"FINISHED"}
    assert runs["tags.mlflow.parentRunId"].nunique() == 1  # the first sweep's parent, in the server's database
    nodes = {node for tagged in runs["tags.ray_nodes"] for node in tagged.split(",")}
    assert second.node_id[:12] in nodes and len(nodes) == 2  # trials ran on both nodes
    assert set(runs["params.seed"]) == {"0", "1"} and set(runs["params.cell"]) == {"vanilla", "gru"}
    table = compare.compare("adding", parent_run_id=runs["tags.mlflow.parentRunId"].iloc[0])
    assert list(table["runs"]) == [2, 2]  # both variants, two seeds each, from the server
    assert tracking.tracking_uri() == postgres_server
    import mlflow  # the server's model registry, on PostgreSQL

    version = mlflow.register_model(f"runs:/{runs['run_id'].iloc[0]}/model", "zoo-adding-cluster")
    assert version.version == "1" and mlflow.MlflowClient().get_registered_model("zoo-adding-cluster").name


@pytest.mark.faults
def test_a_node_killed_during_a_trial_retries_it_from_its_checkpoint(ray_cluster, mlflow_server, tmp_path,
                                                                     monkeypatch):
    """The second node dies while it trains; Tune retries its trial on the head node, which has
    its own working folder (and checkpoint folder, mlruns/checkpoints there): it downloads the
    checkpoint from the tracking server's artifacts and continues the same MLflow run (its epochs go
    on): four children, each FINISHED once."""
    cluster, second = ray_cluster
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    sweep = subprocess.Popen(
        [sys.executable, "-m", "zoo", "sweep", "--executor", "ray", "--address", cluster.address,
         "--grid", "cell=vanilla,gru", "--grid", "seed=0,1", "--set", "examples=3000", "--set", "epochs=4",
         "--set", "checkpoint_every=5", *TINY], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        victim, deadline = None, time.monotonic() + 420
        while victim is None and time.monotonic() < deadline and sweep.poll() is None:
            time.sleep(1)
            try:
                runs = children("adding")
            except Exception:  # noqa: BLE001  (the experiment is being created)
                continue
            for _, run in runs.iterrows() if "tags.ray_nodes" in runs else ():
                progress = tmp_path / "second" / "mlruns" / "checkpoints" / run["run_id"] / "progress.json"  # uploaded
                if run["status"] == "RUNNING" and second.node_id[:12] in str(run["tags.ray_nodes"]) \
                        and progress.exists() and json.loads(progress.read_text())["epoch"] < 4:
                    victim = run["run_id"]
        if victim is None:
            sweep.kill()
            pytest.fail("no trial reached an epoch end on the second node; the sweep said:\n" +
                        sweep.communicate(timeout=30)[0][-4000:])
        time.sleep(1)  # its upload to the server
        cluster.remove_node(second, allow_graceful=False)  # its raylet and workers die at once
        output, _ = sweep.communicate(timeout=600)
        assert sweep.returncode == 0, output[-3000:]
        runs = children("adding")
        assert len(runs) == 4 and set(runs["status"]) == {"FINISHED"}, runs[["status", "tags.mlflow.runName"]]
        assert runs.groupby(["params.cell", "params.seed"]).size().eq(1).all()  # no duplicate children
        moved = runs[runs["run_id"] == victim].iloc[0]
        assert len(moved["tags.ray_nodes"].split(",")) == 2  # the same run went on on the head node
        assert f"checkpoint of run {victim} (epoch " in output and "downloaded from the tracking server" in output
        assert f"continuing MLflow run {victim} from its checkpoint" in output
        from zoo import tracking

        steps, _ = tracking.metric_keys_and_steps(victim, ["val_loss"])["val_loss"]
        assert len(steps) == 4 and len(set(steps)) == 4  # epochs 1-4 once each: it went on, not over
        assert (tmp_path / "head" / "mlruns" / "checkpoints").is_dir()  # the head node's trials worked in its folder
        assert not (tmp_path / "head" / "mlruns" / "checkpoints" / victim).exists()  # finished: its checkpoint is gone
        assert {path.name for path in (tmp_path / "mlruns" / "checkpoints").iterdir()} == {"ray"}  # Tune's, no run's
        assert "checkpoint" not in {a.path for a in mlflow_server_artifacts(victim)}
    finally:
        if sweep.poll() is None:
            sweep.kill()


def mlflow_server_artifacts(run_id):
    from mlflow import MlflowClient

    from zoo import tracking

    return MlflowClient(tracking.tracking_uri()).list_artifacts(run_id)


def test_a_worker_refuses_a_sqlite_store_that_is_not_on_its_node(tmp_path, monkeypatch):
    """A Ray worker on a machine without the driver's sqlite file would start a private database:
    one line that names the fix instead, and no database made."""
    from zoo import cluster
    from zoo.errors import UserError

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/elsewhere/mlflow.db")
    with pytest.raises(UserError, match=r"is not on node n1: a sqlite store is one machine's file\. .*make server"):
        cluster.local_store_here("n1")
    assert not (tmp_path / "elsewhere").exists()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "mlflow.db").touch()
    cluster.local_store_here("n1")  # there: no objection
    import socket

    monkeypatch.setenv("ZOO_DRIVER_HOST", socket.gethostname())  # the driver's machine: the same file
    cluster.local_store_here("n1")
    monkeypatch.setenv("ZOO_DRIVER_HOST", "another-machine")  # a node with an old copy of the file at that path
    with pytest.raises(UserError, match=r"is not on node n1: a sqlite store is one machine's file"):
        cluster.local_store_here("n1")


def test_asha_search_stops_trials_that_fall_behind(store, gone_ray_cluster):
    """A learning-rate search on Ray started here (2 CPUs), though Ray's note of the last cluster
    started on this machine names one that is gone: the tiny learning rates, behind after an epoch,
    are stopped by ASHA; their runs end FINISHED, tagged, and the parent records the choice."""
    pytest.importorskip("ray", reason="Ray is not installed: make install")
    code = main(["sweep", "--executor", "ray", "--scheduler", "asha", "--grid",
                 "learning_rate=0.01,0.003,0.00001,0.000003", "--set", "optimizer=adam", "--set", "examples=2000",
                 "--set", "epochs=4", *TINY])
    assert code == 0
    from zoo import tracking

    runs = children("adding")
    assert len(runs) == 4 and set(runs["status"]) == {"FINISHED"}
    stopped = runs[runs.get("tags.early_stopped", pd.Series(None, index=runs.index)).notna()]
    assert len(stopped) >= 1 and "tags.error" not in stopped or stopped["tags.error"].isna().all()
    assert {"1e-05", "3e-06"} <= set(stopped["params.learning_rate"])  # the hopeless rates, after an epoch
    parent = tracking.get_run(runs["tags.mlflow.parentRunId"].iloc[0])
    assert parent.data.tags["best_variant"] and parent.data.tags["best_run_id"] in set(runs["run_id"])
    best = runs[runs["run_id"] == parent.data.tags["best_run_id"]].iloc[0]
    assert best["params.learning_rate"] in {"0.01", "0.003"} and best["run_id"] not in set(stopped["run_id"])
    assert best["metrics.epochs_run"] == 4 and best["metrics.test_mse"] > 0  # trained to the end, then tested


def test_a_worker_without_the_data_ends_its_trial_with_the_data_error(tmp_path, monkeypatch):
    """The driver finds the data (../shared/data); the cluster's node was started with a data
    directory that does not exist: each trial ends with the data error's one line, no traceback."""
    cluster_utils = pytest.importorskip("ray.cluster_utils", reason="Ray is not installed: make install")
    from zoo.data.files import data_dir

    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    if not (data_dir() / "sst2").exists():
        pytest.skip("no SST-2 in the data directory (../shared/data)")
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "nowhere"))  # what the node inherits
    cluster = cluster_utils.Cluster(initialize_head=True, head_node_args=LOOPBACK_NODE)
    try:
        monkeypatch.delenv("ZOO_DATA_DIR")
        done = subprocess.run(
            [sys.executable, "-m", "zoo", "sweep", "--executor", "ray", "--address", cluster.address,
             "--grid", "seed=0,1", "--set", "task=sentiment", "--set", "dataset=sst2", "--set", "limit=50",
             "--set", "units=4", "--set", "embedding_size=4", "--set", "epochs=1"], cwd=tmp_path,
            env={**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"},
            capture_output=True, text=True, timeout=400)
    finally:
        cluster.shutdown()
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.count("could not run: Missing data file") >= 2
    assert "Traceback" not in done.stdout + done.stderr


def test_the_team_server_wants_a_login_and_keeps_every_secret_out_of_sight(capsys):
    """make server: MLflow's basic-auth app and PostgreSQL with passwords. Nobody gets in without a
    login; the administrator's password is in a file only its owner reads (the command says where,
    never what); `server user add` gives READ, EDIT or MANAGE on every experiment; no password in a
    printed line, a log, server.json or a command line, nor in a zoo sweep's params, tags, artifacts and
    HTML report logged with a user's login, nor in its Ray session's files (the sweep's trials run on Ray,
    whose workers log in as the user); a wrong password is refused; no authentication off loopback."""
    import json
    import shutil
    import tempfile
    import urllib.error
    import urllib.request
    from pathlib import Path

    import mlflow

    from conftest import free_port
    from zoo import server

    if importlib.util.find_spec("psycopg") is None or not (
            shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))):
        pytest.skip("PostgreSQL or psycopg is not installed (apt-get install postgresql; make install)")
    folder = Path(tempfile.mkdtemp(prefix="zoo-server-"))
    folder.chmod(0o755)
    ray_folder = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths live under it
    try:
        port = free_port()
        assert main(["server", "start", "--folder", str(folder), "--port", str(port),
                     "--database-port", str(free_port())]) == 0
        uri = f"http://127.0.0.1:{port}"
        keys = json.loads((folder / server.SECRETS).read_text())
        assert (folder / server.SECRETS).stat().st_mode & 0o777 == 0o600
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            urllib.request.urlopen(f"{uri}/api/2.0/mlflow/experiments/search?max_results=1", timeout=30)
        assert anonymous.value.code == 401
        with server._as_admin(folder):
            shared = mlflow.MlflowClient(uri).create_experiment("shared")
        for name, permission in (("alice", "EDIT"), ("bob", "READ")):
            assert main(["server", "user", "add", name, "--permission", permission, "--folder", str(folder)]) == 0
        assert (folder / "users" / "alice").stat().st_mode & 0o777 == 0o600
        printed = capsys.readouterr()
        logins = {name: json.loads((folder / "users" / name).read_text()) for name in ("alice", "bob")}
        for name, login in logins.items():
            client = mlflow.MlflowClient(uri)
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("MLFLOW_TRACKING_USERNAME", name)
                patch.setenv("MLFLOW_TRACKING_PASSWORD", login["MLFLOW_TRACKING_PASSWORD"])
                if name == "alice":  # EDIT: she logs runs into an experiment the administrator made
                    run = client.create_run(shared)
                    client.log_param(run.info.run_id, "x", "1")
                else:  # READ: he sees it, and cannot write to it
                    assert client.get_experiment(shared).name == "shared"
                    with pytest.raises(mlflow.exceptions.MlflowException, match="403|PERMISSION_DENIED"):
                        client.create_run(shared)
        import base64

        wrong = base64.b64encode(b"alice:" + logins["alice"]["MLFLOW_TRACKING_PASSWORD"][::-1].encode()).decode()
        with pytest.raises(urllib.error.HTTPError) as refused:  # a wrong password is no login
            urllib.request.urlopen(urllib.request.Request(f"{uri}/api/2.0/mlflow/experiments/search?max_results=1",
                                                          headers={"Authorization": f"Basic {wrong}"}), timeout=30)
        assert refused.value.code == 401
        work = folder / "alice-work"  # a zoo sweep on Ray and its HTML report with alice's login, the only one it has
        work.mkdir()
        as_alice = {**os.environ, **logins["alice"]}
        cluster_utils = pytest.importorskip("ray.cluster_utils", reason="Ray is not installed: make install")
        with pytest.MonkeyPatch.context() as patch:  # a Ray node started without any login, as a cluster's are
            patch.setenv("RAY_TMPDIR", str(ray_folder))
            for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
                patch.delenv(name, raising=False)
            cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={**LOOPBACK_NODE, "num_cpus": 2})
        try:
            swept = subprocess.run([sys.executable, "-m", "zoo", "sweep", "--executor", "ray", "--address",
                                    cluster.address, "--grid", "seed=0,1", *TINY, "--set", "examples=64",
                                    "--set", "epochs=2", "--set", "flow_samples=1"], cwd=work,
                                   env={**as_alice, "RAY_TMPDIR": str(ray_folder)}, capture_output=True, text=True,
                                   timeout=300)
        finally:
            cluster.shutdown()
        assert swept.returncode == 0, swept.stderr[-2000:]
        reported = subprocess.run([sys.executable, "-m", "zoo", "report", "--experiment", "adding", "--static",
                                   "--out", str(work / "reports")], cwd=work, env=as_alice, capture_output=True,
                                  text=True, timeout=300)
        assert reported.returncode == 0, reported.stderr[-2000:]
        with server._as_admin(folder):  # everything the runs hold: params, tags, every artifact
            client = mlflow.MlflowClient(uri)
            experiment = client.get_experiment_by_name("adding")
            runs = client.search_runs([experiment.experiment_id])
            assert len(runs) == 3 and {r.info.status for r in runs} == {"FINISHED"}  # a parent, two children
            for r in runs:  # into the working folder, searched below
                mlflow.artifacts.download_artifacts(run_id=r.info.run_id, dst_path=str(work / r.info.run_id),
                                                    tracking_uri=uri)
        held = " ".join(f"{r.data.params} {r.data.tags}" for r in runs).encode()
        files = [path for root in (work, ray_folder) for path in root.rglob("*")  # artifacts, report, Tune's files,
                 if path.is_file()]  # and Ray's session: its logs, runtime_env_agent.log with the workers' variables
        assert [path for path in files if path.name == "runtime_env_agent.log"]
        assert any(path.suffix == ".html" for path in files) and any(path.name == "comparison.csv" for path in files)
        held += b" ".join(path.read_bytes() for path in files) + (swept.stdout + swept.stderr).encode()
        secrets_seen = [*keys.values(), *(login["MLFLOW_TRACKING_PASSWORD"] for login in logins.values())]
        assert not [secret for secret in secrets_seen if secret.encode() in held]
        pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
        command_lines = " ".join((Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace")
                                 for pid in pids if (Path("/proc") / str(pid) / "cmdline").exists())
        written = " ".join(path.read_text(errors="replace") for path in (folder / "server.json", folder / "mlflow.log",
                                                                         folder / "postgres.log"))
        for secret in secrets_seen:
            assert secret not in printed.out + printed.err + written + command_lines
        assert f"{folder / server.SECRETS}" in printed.out or "secrets.json" in printed.out
        database = server._database_port(json.loads((folder / "server.json").read_text()))
        connected = subprocess.run(  # MLflow's connections to the database: through its socket, none over TCP
            [server._postgres_tool("psql"), *server._libpq(folder, database), "-d", "mlflow", "-tAc",
             "SELECT count(*) FILTER (WHERE client_addr IS NULL), count(*) FILTER (WHERE client_addr IS NOT NULL) "
             "FROM pg_stat_activity WHERE datname = 'mlflow' AND backend_type = 'client backend' "
             "AND pid <> pg_backend_pid()"],
            capture_output=True, text=True, env=server._database_environment(folder), check=True).stdout.strip()
        through_socket, over_tcp = map(int, connected.split("|"))
        assert through_socket >= 1 and over_tcp == 0, connected
        hba = (folder / "postgres" / "pg_hba.conf").read_text()
        assert "scram-sha-256" in hba and not [line for line in hba.splitlines()
                                               if line.strip() and not line.startswith("#") and "trust" in line]
    finally:
        server.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(ray_folder, ignore_errors=True)
    assert main(["server", "start", "--no-auth", "--host", "0.0.0.0", "--folder", str(folder)]) == 2
    assert "without authentication" in capsys.readouterr().err


def test_a_backup_of_the_team_server_restores_its_runs_artifacts_and_logins(capsys):
    """server backup --to: while the server runs, its database (pg_dump), logins, secrets and
    artifacts go to an owner-only folder; server restore --from makes a new server folder that
    starts with the same runs, artifacts and logins. Bad folders are one line, exit 2."""
    import json
    import shutil
    import tempfile
    from pathlib import Path

    import mlflow

    from conftest import free_port
    from zoo import server

    if importlib.util.find_spec("psycopg") is None or not (
            shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))):
        pytest.skip("PostgreSQL or psycopg is not installed (apt-get install postgresql; make install)")
    root = Path(tempfile.mkdtemp(prefix="zoo-backup-"))
    root.chmod(0o755)  # user postgres reaches the database folders below it
    first, kept, second = root / "first", root / "backup", root / "second"
    try:
        port = free_port()
        assert main(["server", "start", "--folder", str(first), "--port", str(port),
                     "--database-port", str(free_port())]) == 0
        with server._as_admin(first):
            client = mlflow.MlflowClient(f"http://127.0.0.1:{port}")
            run = client.create_run(client.create_experiment("kept"))
            client.log_param(run.info.run_id, "cell", "gru")
            client.log_metric(run.info.run_id, "test_accuracy", 0.875)
            client.log_text(run.info.run_id, "the artifact", "notes.txt")
            client.set_terminated(run.info.run_id)
            client.delete_run(client.create_run(run.info.experiment_id).info.run_id)  # not counted
        assert main(["server", "user", "add", "alice", "--permission", "EDIT", "--folder", str(first)]) == 0
        alice = json.loads((first / "users" / "alice").read_text())
        capsys.readouterr()

        assert main(["server", "backup", "--folder", str(first), "--to", str(kept)]) == 0
        printed = capsys.readouterr().out
        assert "backed up 1 runs" in printed and kept.stat().st_mode & 0o777 == 0o700
        assert (kept / server.SECRETS).stat().st_mode & 0o777 == 0o600
        for secret in [*json.loads((first / server.SECRETS).read_text()).values(), alice["MLFLOW_TRACKING_PASSWORD"]]:
            assert secret not in printed
        assert main(["server", "backup", "--folder", str(first), "--to", str(kept)]) == 2  # not a new folder
        assert "it exists; pass a new folder" in capsys.readouterr().err
        assert {path.stat().st_mode & 0o777 for path in kept.iterdir() if path.is_file()} == {0o600}
        server.stop(first)
        assert main(["server", "backup", "--folder", str(first), "--to", str(root / "other")]) == 2  # not running

        database_port, port = free_port(), free_port()
        assert main(["server", "restore", "--from", str(kept), "--folder", str(second),
                     "--database-port", str(database_port)]) == 0
        assert "restored 1 runs" in capsys.readouterr().out
        assert main(["server", "restore", "--from", str(kept), "--folder", str(second)]) == 2  # not empty
        assert main(["server", "restore", "--from", str(root), "--folder", str(root / "third")]) == 2  # no backup
        assert main(["server", "start", "--folder", str(second), "--port", str(port),
                     "--database-port", str(database_port)]) == 0
        uri = f"http://127.0.0.1:{port}"
        taken = root / "taken"  # a restore that fails (its database port is the running one's) leaves nothing
        assert main(["server", "restore", "--from", str(kept), "--folder", str(taken),
                     "--database-port", str(database_port)]) == 2
        assert not taken.exists()
        with server._as_admin(second):  # the same administrator password, from the restored secrets
            restored = mlflow.MlflowClient(uri).get_run(run.info.run_id)
            assert restored.data.params == {"cell": "gru"} and restored.data.metrics == {"test_accuracy": 0.875}
            notes = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="notes.txt",
                                                        tracking_uri=uri, dst_path=str(root / "downloaded"))
            assert Path(notes).read_text() == "the artifact"
        with pytest.MonkeyPatch.context() as patch:  # alice's login works on the restored server
            patch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
            patch.setenv("MLFLOW_TRACKING_PASSWORD", alice["MLFLOW_TRACKING_PASSWORD"])
            client = mlflow.MlflowClient(uri)
            assert client.create_run(client.get_experiment_by_name("kept").experiment_id).info.run_id
    finally:
        for folder in (first, second):
            server.stop(folder)
        shutil.rmtree(root, ignore_errors=True)
