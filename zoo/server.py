"""A team tracking server: `mlflow server` on a PostgreSQL database, artifacts served by it.

    python -m zoo server start [--host 127.0.0.1 --port 5050 --database-port 5433]   # make server
    export MLFLOW_TRACKING_URI=http://127.0.0.1:5050                                  # every command, then
    python -m zoo server stop                                                         # make server-stop

PostgreSQL 15 (Debian's packages: initdb, pg_ctl) keeps its data in <folder>/postgres, created on
first start (as user `postgres` when run as root: PostgreSQL refuses root), listening on
127.0.0.1 only; the database `mlflow` is created if missing. MLflow serves the artifacts from
<folder>/artifacts (--serve-artifacts; for S3 pass --artifacts-destination s3://bucket/path).
<folder>/server.json records what runs; the logs are <folder>/postgres.log and mlflow.log.
Where PostgreSQL listens is a settings file in its folder (zoo.conf), not shell text; pg_ctl still
hands -D and -l to /bin/sh in double quotes, so a folder with $ ` " \ or a line break is refused in
one line (spaces, quotes and brackets are fine). As root, only the database folder and its log
change owner.
"""

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from zoo.errors import UserError

FOLDER = Path("mlruns/server")
USER = "zoo"  # the database role MLflow connects as (trust authentication on 127.0.0.1)
DATABASE = "mlflow"


def _postgres_tool(name):
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if found is None:
        raise UserError(f"PostgreSQL's {name} is not installed: apt-get install postgresql (Debian's packages), "
                        "or point MLFLOW_TRACKING_URI at an existing server.")
    return str(found)


def _as_database_owner(command, data, log=None):
    """`command` run as the owner of the database: user postgres when we are root, who then owns
    `data` (PostgreSQL's folder) and the `log` file; nothing else changes owner (the artifacts
    beside them stay whose they are)."""
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise UserError("Running as root, the database needs an unprivileged user: create user postgres "
                        "(Debian's postgresql package does) or run as another user.") from None
    subprocess.run(["chown", "-R", "postgres:", "--", str(data)], check=True)
    if log is not None:
        subprocess.run(["chown", "postgres:", "--", str(log)], check=True)
    as_postgres = ["runuser", "-u", "postgres", "--"]
    if subprocess.run(as_postgres + ["test", "-w", str(data)]).returncode != 0:
        raise UserError(f"User postgres cannot reach {data} (a folder above it is private); pass a --folder "
                        "that other users can reach, or run as another user than root.")
    return as_postgres + command


UNSAFE = set('$`"\\\n\0')  # characters a double-quoted /bin/sh word still reads (pg_ctl -D, -l)
SETTINGS = "zoo.conf"  # in the data folder, included by its postgresql.conf: where the server listens


def _setting(value):
    """`value` as a PostgreSQL configuration string: single-quoted, a quote doubled, a backslash escaped."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def _listening(data, port):
    """The settings file's text: TCP on 127.0.0.1:`port` and the socket in the data folder (no
    /run/postgresql needed), as configuration values, never shell text."""
    socket_folder = '"' + str(data) + '"'  # double-quoted in the list: a path with spaces or commas
    return (f"listen_addresses = '127.0.0.1'\nport = {int(port)}\n"
            f"unix_socket_directories = {_setting(socket_folder)}\n")


def wait_until_up(uri, process, timeout, log=None):
    """Waits (at most `timeout` s) for an MLflow server's /health to answer 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
        if process.poll() is not None:
            tail = Path(log).read_text(errors="replace").strip().splitlines()[-1:] if log else []
            raise UserError(f"mlflow server exited with code {process.returncode}" +
                            (f": {tail[0]}" if tail else "") + (f" (log: {log})" if log else ""))
    raise UserError(f"mlflow server did not answer at {uri} within {timeout} s" + (f" (log: {log})" if log else ""))


def launch_mlflow(backend_uri, artifacts, host, port, log, timeout=120):
    """Starts `mlflow server` (one web worker) in its own process group and waits until it answers;
    returns the Popen."""
    mlflow = Path(sys.executable).with_name("mlflow")
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [str(mlflow), "server", "--backend-store-uri", backend_uri, "--artifacts-destination", str(artifacts),
             "--serve-artifacts", "--host", host, "--port", str(port), "--workers", "1"],
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            # none of MLflow's GenAI job consumers: a store of training runs does not use them
            env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ})
    try:
        wait_until_up(f"http://{host}:{port}", process, timeout, log)
    except BaseException:
        stop_process(process.pid)
        raise
    return process


def stop_process(pid, timeout=20):
    """SIGTERM to a process group, then SIGKILL after `timeout` s."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)


def start_database(folder, port):
    """PostgreSQL with its data in <folder>/postgres on 127.0.0.1:`port` (created on first use),
    and database `mlflow`; returns its SQLAlchemy URI."""
    data = folder / "postgres"
    unsafe = sorted({character for character in str(data) if character in UNSAFE})
    if unsafe:
        raise UserError(f"Invalid server folder {str(folder)!r}: pg_ctl passes its paths through /bin/sh in double "
                        f"quotes, where {' '.join(map(repr, unsafe))} would be read as shell; pass a --folder "
                        "without $ ` \" \\ or a line break.")
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        made = subprocess.run(_as_database_owner([_postgres_tool("initdb"), "-D", str(data), "-U", USER,
                                                  "--auth=trust", "--encoding=UTF8", "--no-instructions"], data),
                              capture_output=True, text=True)
        if made.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            raise UserError(f"initdb could not create the database in {data}: "
                            f"{(made.stderr.strip().splitlines() or ['no message'])[0]}")
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(f"include_if_exists = '{SETTINGS}'\n")
    (data / SETTINGS).write_text(_listening(data, port))
    log = folder / "postgres.log"
    log.touch()
    started = subprocess.run(_as_database_owner([_postgres_tool("pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                                                 "-t", "60", "start"], data, log), capture_output=True, text=True)
    if started.returncode != 0:
        raise UserError(f"PostgreSQL did not start on 127.0.0.1:{port} (is the port taken?); see {log}")
    psql = [_postgres_tool("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", "postgres", "-tAc"]
    exists = subprocess.run(psql + [f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if not exists:
        subprocess.run(psql + [f"CREATE DATABASE {DATABASE}"], check=True, stdout=subprocess.DEVNULL)
    return f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}"


def stop_database(folder):
    data = folder / "postgres"
    if (data / "postmaster.pid").exists():
        subprocess.run(_as_database_owner([_postgres_tool("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                                          data), capture_output=True)


def start(folder=FOLDER, host="127.0.0.1", port=5050, database_port=5433, artifacts=None):
    """PostgreSQL, then `mlflow server` on it; returns the tracking URI. Recorded in server.json."""
    folder = Path(folder).resolve()
    record = folder / "server.json"
    if record.exists():
        running = json.loads(record.read_text())
        try:
            os.killpg(running["pid"], 0)
            raise UserError(f"A tracking server already runs at {running['uri']} (pid {running['pid']}); "
                            "stop it with make server-stop.")
        except ProcessLookupError:
            record.unlink()  # left by a server that was killed
    folder.mkdir(parents=True, exist_ok=True)
    backend = start_database(folder, database_port)
    try:
        process = launch_mlflow(backend, artifacts or folder / "artifacts", host, port, folder / "mlflow.log")
    except BaseException:
        stop_database(folder)
        raise
    uri = f"http://{host}:{port}"
    record.write_text(json.dumps({"uri": uri, "pid": process.pid, "backend": backend}))
    return uri


def stop(folder=FOLDER):
    """Stops the server that `start` recorded in `folder`, then its database."""
    folder = Path(folder).resolve()
    record = folder / "server.json"
    if record.exists():
        stop_process(json.loads(record.read_text())["pid"])
        record.unlink()
    stop_database(folder)


def views(ui):
    """[(experiment name, address on the MLflow UI at `ui`)] of every experiment with runs: the
    zoo's (tagged EXPERIMENT_KIND) open their saved view "zoo: variants", which they get first
    (zoo.tracking.experiment_id); any other opens its runs table, and is left untagged."""
    import mlflow

    from zoo import tracking

    tracking.connect()
    found = []
    for experiment in mlflow.search_experiments(order_by=["name"]):
        if mlflow.search_runs([experiment.experiment_id], max_results=1).empty:
            continue
        if tracking.EXPERIMENT_KIND.items() <= experiment.tags.items():
            url = tracking.view_url(ui, tracking.experiment_id(experiment.name))
        else:
            url = f"{ui}/#/experiments/{experiment.experiment_id}/runs?workflowType=machine_learning"
        found.append((experiment.name, url))
    return found


def ui(host="127.0.0.1", port=5000):
    """`mlflow ui` over the zoo's store (this process becomes it: Ctrl-C stops it) with one web
    worker and none of MLflow's GenAI job consumers, after printing each experiment's link
    (views). With MLFLOW_TRACKING_URI at a tracking server, prints that server's links instead."""
    from zoo import tracking

    uri = tracking.tracking_uri()
    remote = uri.startswith(("http://", "https://"))
    address = uri.rstrip("/") if remote else f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    listed = views(address)
    for name, url in listed:
        print(f"{name}: {url}")
    if not listed:
        print(f"no runs in {uri} yet: make demo (or any experiment's make target) fills it")
    if remote:
        print(f"the tracking server {uri} serves the UI itself; nothing to start")
        return
    print(f"MLflow UI on {address} (Ctrl-C stops it)", flush=True)
    os.execve(sys.executable, [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", host,
                               "--port", str(port), "--workers", "1"],
              {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": os.environ.get(
                  "MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")})
