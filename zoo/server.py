"""A team tracking server: `mlflow server` on a PostgreSQL database, artifacts served by it.

    python -m zoo server start [--host 127.0.0.1 --port 5050 --database-port 5433]   # make server
    export MLFLOW_TRACKING_URI=http://127.0.0.1:5050                                  # every command, then
    python -m zoo server stop                                                         # make server-stop

PostgreSQL 15 (Debian's packages: initdb, pg_ctl) keeps its data in <folder>/postgres, created on
first start (as user `postgres` when run as root: PostgreSQL refuses root), listening on
127.0.0.1 and on a socket in that folder, through which MLflow, psql, pg_dump and pg_restore
connect, with the password from an owner-only file (scram-sha-256); the database `mlflow` is
created if missing. MLflow serves the artifacts from
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
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from zoo.errors import UserError

FOLDER = Path("mlruns/server")
USER = "zoo"  # the database role MLflow connects as (its password in SECRETS, scram-sha-256)
DATABASE = "mlflow"
ADMIN = "admin"  # MLflow's administrator account (basic-auth), its password in SECRETS
SECRETS = "secrets.json"  # in the server folder, mode 0600: the generated passwords and Flask's key
PERMISSIONS = ("READ", "EDIT", "MANAGE")  # what `server user add` grants, on every experiment and model
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _address_for_clients(host):
    """The host a client on this machine uses to reach a server listening on `host` (every interface: 127.0.0.1)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host


def _private(path, text):
    """Writes `text` to `path`, readable and writable by its owner only (created so: never a
    moment with wider permissions)."""
    path = Path(path)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    return path


def server_secrets(folder):
    """{admin, database, flask}: the server folder's generated secrets (SECRETS, created on first
    use, mode 0600). Never printed, logged or put on a command line."""
    path = Path(folder) / SECRETS
    if not path.exists():
        _private(path, json.dumps({name: secrets.token_urlsafe(24) for name in ("admin", "database", "flask")}))
    return json.loads(path.read_text())


def credentials(folder):
    """The environment that makes MLflow's client the server's administrator (MLflow's standard
    MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD), from the server folder's SECRETS."""
    return {"MLFLOW_TRACKING_USERNAME": ADMIN, "MLFLOW_TRACKING_PASSWORD": server_secrets(folder)["admin"]}


def _database_environment(folder):
    """This process's environment with libpq's password file for the database role (PGPASSFILE,
    mode 0600, beside SECRETS; any host: the socket's folder is the host libpq matches it with): no
    password in a URI, a command line or server.json."""
    password_file = Path(folder) / "pgpass"
    line = f"*:*:*:{USER}:{server_secrets(folder)['database']}\n"
    if not password_file.exists() or password_file.read_text() != line:  # new, or a folder from before the socket
        _private(password_file, line)
    return {**os.environ, "PGPASSFILE": str(password_file)}


def _libpq(folder, port):
    """psql's, pg_dump's and pg_restore's connection arguments: the socket in the database folder
    (<folder>/postgres, where only its owner and the database's user reach it), as role USER."""
    return ["-h", str(Path(folder) / "postgres"), "-p", str(int(port)), "-U", USER]


def _postgres_tool(name):
    """PostgreSQL's program `name`, every one from the same version: the newest of Debian's
    /usr/lib/postgresql/<version>/bin that has initdb, else the PATH's (a dump made by a newer
    pg_dump than the server's restores with no older pg_restore)."""
    versions = [folder for folder in Path("/usr/lib/postgresql").glob("*/bin")
                if folder.parent.name.isdigit() and (folder / "initdb").exists()]
    newest = max(versions, key=lambda folder: int(folder.parent.name), default=None)
    found = str(newest / name) if newest is not None and (newest / name).exists() else shutil.which(name)
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
    """The settings file's text: the socket in the data folder (no /run/postgresql needed; every
    connection of the zoo's goes there) and TCP on 127.0.0.1:`port`, as configuration values, never
    shell text."""
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


def launch_mlflow(backend_uri, artifacts, host, port, log, timeout=120, environment=None, auth=False,
                  serve_artifacts=True):
    """Starts `mlflow server` (one web worker; auth: MLflow's basic-auth app) in its own process
    group with `environment` (default: this process's) and waits until it answers; returns the Popen.
    serve_artifacts=False: --no-serve-artifacts, the server hands clients its artifact folder's path
    instead (what the tests use to show that the zoo notices)."""
    mlflow = Path(sys.executable).with_name("mlflow")
    where = ["--artifacts-destination", str(artifacts), "--serve-artifacts"] if serve_artifacts else [
        "--default-artifact-root", str(artifacts), "--no-serve-artifacts"]
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [str(mlflow), "server", "--backend-store-uri", backend_uri, *where, "--host", host, "--port", str(port),
             "--workers", "1", *(["--app-name", "basic-auth"] if auth else [])],
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            # none of MLflow's GenAI job consumers: a store of training runs does not use them
            env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **(environment or os.environ)})
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
    and database `mlflow`; returns its SQLAlchemy URI, which connects through the socket in the data
    folder (with the password from PGPASSFILE: _database_environment)."""
    data = folder / "postgres"
    unsafe = sorted({character for character in str(data) if character in UNSAFE})
    if unsafe:
        raise UserError(f"Invalid server folder {str(folder)!r}: pg_ctl passes its paths through /bin/sh in double "
                        f"quotes, where {' '.join(map(repr, unsafe))} would be read as shell; pass a --folder "
                        "without $ ` \" \\ or a line break.")
    if "," in str(data):
        raise UserError(f"Invalid server folder {str(folder)!r}: the database's socket folder is a libpq host, and "
                        "libpq reads a comma there as a list of hosts; pass a --folder without a comma.")
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        password_file = data.with_name("initdb-password")  # read once by initdb (as its user), then gone
        _private(password_file, server_secrets(folder)["database"] + "\n")
        try:
            made = subprocess.run(_as_database_owner([_postgres_tool("initdb"), "-D", str(data), "-U", USER,
                                                      "--auth=scram-sha-256", f"--pwfile={password_file}",
                                                      "--encoding=UTF8", "--no-instructions"], data, password_file),
                                  capture_output=True, text=True)
        finally:
            password_file.unlink(missing_ok=True)
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
    psql = [_postgres_tool("psql"), *_libpq(folder, port), "-d", "postgres", "-tAc"]
    environment = _database_environment(folder)
    exists = subprocess.run(psql + [f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
                            capture_output=True, text=True, check=True, env=environment).stdout.strip()
    if not exists:
        subprocess.run(psql + [f"CREATE DATABASE {DATABASE}"], check=True, stdout=subprocess.DEVNULL, env=environment)
    from urllib.parse import quote

    return f"postgresql://{USER}@/{DATABASE}?host={quote(str(data), safe='/')}&port={int(port)}"


def stop_database(folder):
    data = folder / "postgres"
    if (data / "postmaster.pid").exists():
        subprocess.run(_as_database_owner([_postgres_tool("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                                          data), capture_output=True)


AUTH_CONFIG = """[mlflow]
default_permission = READ
database_uri = sqlite:///{database}
admin_username = {admin}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
auth_cache_ttl_seconds = 60
"""  # the cache: a login's PBKDF2 check once a minute, not on every request (one web worker: never stale)
ROLES = {permission: f"zoo-{permission.lower()}" for permission in PERMISSIONS}


def start(folder=FOLDER, host="127.0.0.1", port=5050, database_port=5433, artifacts=None, auth=True):
    """PostgreSQL (password authentication), then `mlflow server` on it with MLflow's basic-auth
    app (auth=False: none, on a loopback host only); returns the tracking URI. Recorded in
    server.json. The administrator's password is in <folder>/secrets.json (mode 0600)."""
    if not auth and host not in LOOPBACK:
        raise UserError(f"Refusing to serve on {host} without authentication: anyone who reaches it would own "
                        "the runs; leave authentication on, or listen on 127.0.0.1.")
    folder = Path(folder).resolve()
    running = _running(folder)
    if running is not None:
        raise UserError(f"A tracking server already runs at {running['uri']} (pid {running['pid']}); "
                        "stop it with make server-stop.")
    record = folder / "server.json"
    record.unlink(missing_ok=True)  # left by a server that was killed
    folder.mkdir(parents=True, exist_ok=True)
    backend = start_database(folder, database_port)
    environment = _database_environment(folder)
    if auth:
        keys = server_secrets(folder)
        config = _private(folder / "auth.ini", AUTH_CONFIG.format(database=folder / "auth.db", admin=ADMIN))
        environment.update(MLFLOW_AUTH_CONFIG_PATH=str(config), MLFLOW_AUTH_ADMIN_PASSWORD=keys["admin"],
                           MLFLOW_FLASK_SERVER_SECRET_KEY=keys["flask"])
    try:
        process = launch_mlflow(backend, artifacts or folder / "artifacts", host, port, folder / "mlflow.log",
                                environment=environment, auth=auth)
    except BaseException:
        stop_database(folder)
        raise
    uri = f"http://{_address_for_clients(host)}:{port}"
    record.write_text(json.dumps({"uri": uri, "pid": process.pid, "backend": backend, "database_port": database_port,
                                  "auth": auth,
                                  "artifacts": artifacts if "://" in str(artifacts or "") else
                                  str(Path(artifacts or folder / "artifacts").resolve())}))
    if auth:
        _roles(uri, folder)
    return uri


def _auth_client(uri):
    """MLflow's basic-auth client at `uri` (it authenticates as MLFLOW_TRACKING_USERNAME says)."""
    from mlflow.server import get_app_client

    return get_app_client("basic-auth", tracking_uri=uri)


def _as_admin(folder):
    """A context in which MLflow's client authenticates as the server's administrator (credentials(folder))."""
    from unittest import mock

    return mock.patch.dict(os.environ, credentials(folder))


def _roles(uri, folder):
    """The roles `server user add` assigns (ROLES: READ, EDIT or MANAGE on every experiment and
    registered model, those made later too); made once."""
    with _as_admin(folder):
        client = _auth_client(uri)
        have = {role.name for role in client.list_roles("default")}
        for permission, name in ROLES.items():
            if name in have:
                continue
            role = client.create_role("default", name, f"{permission} on every experiment and registered model")
            for kind in ("experiment", "registered_model"):
                client.add_role_permission(role.id, kind, "*", permission)


def add_user(folder, name, permission):
    """A new user of the server recorded in `folder`, with `permission` (PERMISSIONS) on every
    experiment and registered model; the generated password goes to <folder>/users/<name>
    (mode 0600), never to the terminal. Returns that file's path."""
    import re

    if permission not in PERMISSIONS:
        raise UserError(f"Invalid --permission {permission!r}; valid choices: {', '.join(PERMISSIONS)}.")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise UserError(f"Invalid user name {name!r}; use 1 to 64 letters, digits, '.', '_' or '-'.")
    folder = Path(folder).resolve()
    running = _running(folder) or {}  # a record left by a killed server is no server
    if not running.get("auth"):
        raise UserError(f"No tracking server with authentication runs from {folder}; start one with make server.")
    password = secrets.token_urlsafe(18)
    from mlflow.exceptions import MlflowException

    with _as_admin(folder):
        client = _auth_client(running["uri"])
        try:
            client.create_user(name, password)
        except MlflowException as error:
            raise UserError(f"Cannot add user {name!r}: {str(error).splitlines()[0][:200]}") from None
        role = next(role for role in client.list_roles("default") if role.name == ROLES[permission])
        client.assign_role(name, role.id)
    (folder / "users").mkdir(mode=0o700, exist_ok=True)
    return _private(folder / "users" / name, json.dumps({"MLFLOW_TRACKING_URI": running["uri"],
                                                         "MLFLOW_TRACKING_USERNAME": name,
                                                         "MLFLOW_TRACKING_PASSWORD": password}))


BACKUP = "backup.json"  # what a backup folder holds (written last: a backup without it is not whole)


def _database_port(running):
    from urllib.parse import urlparse

    return running.get("database_port") or urlparse(running["backend"]).port  # the latter: a server.json of before


def _runs_in_database(folder, port):
    """The number of runs in the server's database that are not deleted (MLflow keeps a deleted run
    until `mlflow gc`)."""
    psql = [_postgres_tool("psql"), *_libpq(folder, port), "-d", DATABASE, "-tAc"]
    counted = subprocess.run(psql + ["SELECT count(*) FROM runs WHERE lifecycle_stage = 'active'"],
                             capture_output=True, text=True, env=_database_environment(folder))
    return int(counted.stdout.strip()) if counted.returncode == 0 and counted.stdout.strip().isdigit() else 0


def _running(folder):
    """server.json of the server running from `folder`, or None where none runs (no record, or
    one left by a server that was killed)."""
    record = folder / "server.json"
    if not record.exists():
        return None
    running = json.loads(record.read_text())
    try:
        os.killpg(running["pid"], 0)
    except ProcessLookupError:
        return None
    return running


def backup(folder, destination):
    """Backs up the server running from `folder` into `destination`, a new folder created
    owner-only (it holds the secrets; its files too): the database (pg_dump, PostgreSQL's custom
    format, a consistent snapshot while the server runs), the logins (auth.db, through sqlite's
    backup), secrets.json (so the restored logins and the database password stay valid), then the
    artifacts folder, copied after the dump so that every run in it has its artifacts. An
    artifact store outside the folder (s3://...) is named, not copied. Returns the manifest."""
    import datetime
    import sqlite3

    folder, destination = Path(folder).resolve(), Path(destination).resolve()
    running = _running(folder)
    if running is None:
        raise UserError(f"No tracking server runs from {folder}; a backup reads the running database: start it "
                        "with make server (or pass its --folder).")
    if not (folder / SECRETS).exists():
        raise UserError(f"Invalid server folder {folder}: no {SECRETS}; back up a folder that make server started.")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(destination, 0o700)  # new, and ours: nobody else's files or links inside
    except FileExistsError:
        raise UserError(f"Invalid backup folder {destination}: it exists; pass a new folder.") from None
    except OSError as error:
        raise UserError(f"Cannot create the backup folder {destination}: {error.strerror}.") from None
    mask = os.umask(0o077)  # every file of the backup owner-only
    try:
        port = _database_port(running)
        dumped = subprocess.run([_postgres_tool("pg_dump"), *_libpq(folder, port), "-d", DATABASE, "--format=custom",
                                 "--file", str(destination / "mlflow.dump")],
                                capture_output=True, text=True, env=_database_environment(folder))
        if dumped.returncode != 0:
            raise UserError(f"pg_dump could not back up the database of {folder}: "
                            f"{(dumped.stderr.strip().splitlines() or ['no message'])[0]}")
        if (folder / "auth.db").exists():
            with sqlite3.connect(folder / "auth.db") as source, sqlite3.connect(destination / "auth.db") as target:
                source.backup(target)
        shutil.copyfile(folder / SECRETS, destination / SECRETS)
        artifacts = running.get("artifacts", str(folder / "artifacts"))
        copied = "://" not in artifacts and Path(artifacts).exists()
        if copied:
            shutil.copytree(artifacts, destination / "artifacts")
        manifest = {"made": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "server": running["uri"], "runs": _runs_in_database(folder, port), "database": "mlflow.dump",
                    "logins": (destination / "auth.db").exists(),
                    "artifacts": "artifacts" if copied else f"not copied: back up {artifacts} yourself"}
        (destination / BACKUP).write_text(json.dumps(manifest, indent=1))
    finally:
        os.umask(mask)
    return manifest


def restore(source, folder, database_port=5433):
    """A new server folder from a backup (server backup): the same secrets, a new PostgreSQL
    database loaded from the dump (pg_restore), the logins and the artifacts. Start it as usual
    (make server, with this --folder; with the same --artifacts-destination where the artifacts
    were elsewhere). Nothing is left of a restore that fails. Returns the number of runs restored."""
    source, folder = Path(source).resolve(), Path(folder).resolve()
    if not (source / BACKUP).exists() or not (source / SECRETS).exists():
        raise UserError(f"Invalid backup folder {source}: no {BACKUP} (make one with: python -m zoo server backup "
                        "--to FOLDER, while the server runs).")
    if folder.exists() and any(folder.iterdir()):
        raise UserError(f"Invalid server folder {folder}: it is not empty; restore into a new --folder.")
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / SECRETS, folder / SECRETS)
        os.chmod(folder / SECRETS, 0o600)
        start_database(folder, database_port)  # initdb with the backup's database password, database mlflow
        try:
            loaded = subprocess.run([_postgres_tool("pg_restore"), *_libpq(folder, database_port), "-d", DATABASE,
                                     "--no-owner", "--exit-on-error", str(source / "mlflow.dump")],
                                    capture_output=True, text=True, env=_database_environment(folder))
            if loaded.returncode != 0:
                raise UserError(f"pg_restore could not load {source / 'mlflow.dump'}: "
                                f"{(loaded.stderr.strip().splitlines() or ['no message'])[0]}")
            runs = _runs_in_database(folder, database_port)
        finally:
            stop_database(folder)
        if (source / "auth.db").exists():
            shutil.copy2(source / "auth.db", folder / "auth.db")
        if (source / "artifacts").exists():
            shutil.copytree(source / "artifacts", folder / "artifacts")
    except BaseException:
        stop_database(folder)
        for part in ([folder] if made else [folder / name for name in os.listdir(folder)]):
            if part.is_dir():
                shutil.rmtree(part, ignore_errors=True)
            else:
                part.unlink(missing_ok=True)
        raise
    return runs


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
    if not remote and host not in LOOPBACK:
        raise UserError(f"Refusing to serve the local store on {host}: the MLflow UI has no logins, so anyone who "
                        "reaches it would own the runs; share runs through make server (with logins) instead.")
    address = uri.rstrip("/") if remote else f"http://{_address_for_clients(host)}:{port}"
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
