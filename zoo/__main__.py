"""The zoo's command line.

    python -m zoo train --set task=adding --set cell=vanilla --set activation=relu
    python -m zoo train --resume RUN_ID                 # a stopped run, from its checkpoint, as the same run
    python -m zoo runs --stale [--mark-killed]           # runs left RUNNING by a process that is gone
    python -m zoo sweep --grid cell=vanilla,gru --grid clipping=none,global_norm --set epochs=3
    python -m zoo sweep ... --resume PARENT_ID            # the same sweep, into its parent run
    python -m zoo sweep ... --executor ray --address auto # a Ray Tune trial per run, on a Ray cluster
    python -m zoo server start                           # mlflow server on PostgreSQL (make server); stop
    python -m zoo ui [--port 5000]                       # the MLflow UI (make ui); prints each experiment's view
    python -m zoo compare [--experiment adding]
    python -m zoo baselines [--study sst2,ptb]         # tf-idf, NBSVM, perceptron, Kneser-Ney: a run each
    python -m zoo report [--study sst2]                 # each study's page (docs/results/) + README.md's table
    python -m zoo report --experiment adding            # a sweep as one self-contained HTML file
    python -m zoo report --records-only                 # the same from docs/results/*/records.jsonl alone
    python -m zoo records import docs/results           # the published study's runs, into this store
    python -m zoo docs                                  # docs/configuration.md: every configuration field
    python -m zoo score --run RUN_ID "john is driving a car" "john is driving a cat"
    python -m zoo generate --run RUN_ID --prompt "the company said" --length 40 --temperature 0.8
    python -m zoo export --experiment sentiment          # or --run RUN_ID; writes exports/<experiment>/<run>/
    python -m zoo predict --model exports/sentiment/RUN_ID/saved_model "a fine film" "a dull film"

Configuration fields and their defaults: docs/configuration.md (from zoo/config.py). A bad value is one line on stderr and
exit code 2; a run that diverges is one line and exit code 1 (in a sweep the others go on); Ctrl-C and
SIGTERM save the training state, end the run KILLED and say how to resume (exit codes 130, 143).
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

import zoo.program  # noqa: E402, F401  (this program's process settings, before TensorFlow loads)

from zoo.config import Config, apply_overrides, parse_grid  # noqa: E402
from zoo.errors import UserError, command  # noqa: E402
from zoo.experiment import add_executor_arguments, executor_options  # noqa: E402


@command
def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    overrides = dict(action="append", default=[], metavar="FIELD=VALUE",
                     help="set a configuration field (repeatable), e.g. --set units=128")
    train = commands.add_parser("train", help="train, evaluate and track one configuration")
    train.add_argument("--set", **overrides)
    train.add_argument("--resume", metavar="RUN_ID", help="continue a stopped run (KILLED, or RUNNING with its "
                       "process gone) from its checkpoint, in the same MLflow run")
    runs = commands.add_parser("runs", help="runs left RUNNING by a process that is gone (kill -9, out of memory)")
    runs.add_argument("--stale", action="store_true", required=True, help="list them")
    runs.add_argument("--mark-killed", action="store_true", help="and end them KILLED")
    sweep = commands.add_parser("sweep", help="a grid of runs as one parent MLflow run")
    sweep.add_argument("--set", **overrides)
    sweep.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2",
                       help="values to sweep for a field (repeatable), e.g. --grid cell=vanilla,gru")
    sweep.add_argument("--fresh", action="store_true", help="run every configuration again, also those "
                       "that already have a finished run (by default those are skipped: a re-run resumes)")
    sweep.add_argument("--resume", metavar="PARENT_ID", help="continue this sweep's parent run: the same "
                       "--set/--grid; its finished children are skipped, stopped ones continue")
    add_executor_arguments(sweep)
    compare = commands.add_parser("compare", help="print and save comparison tables of the runs")
    compare.add_argument("--experiment", action="append",
                         help="experiment(s) to compare, named by task (default: every task)")
    baselines = commands.add_parser("baselines", help="strong non-neural baselines of the studies (tf-idf logistic "
                                    "regression, NBSVM, averaged perceptron, Kneser-Ney), each an MLflow run")
    baselines.add_argument("--study", action="append", help="study or comma-separated studies of "
                           "zoo.presets.STUDIES (default: all)")
    report = commands.add_parser("report", help="the studies' pages, tables and figures from the store "
                                 "(docs/results/<study>/, README.md's headline table)")
    report.add_argument("--study", action="append", help="study of zoo.presets.STUDIES (default: all)")
    report.add_argument("--experiment", help="instead: one sweep of this experiment as a self-contained HTML file "
                        "(tables, figures, configurations), also logged to the sweep's parent run")
    report.add_argument("--run", help="with --experiment: the sweep's parent run id (default: the newest sweep)")
    report.add_argument("--static", action="store_true", help="with --experiment: pictures only, without the "
                        "interactive Plotly curves (their plotly.js is 4.8 MB of the page)")
    report.add_argument("--out", help="folder of the figures (default: docs/results), or of the HTML file "
                        "(default: reports)")
    report.add_argument("--readme", default="README.md", help="README whose study-results block (the headline "
                        "table) is replaced (default: README.md; '' leaves it)")
    report.add_argument("--records-only", action="store_true", help="render from the committed records "
                        "(docs/results/<study>/records.jsonl) alone, without reading the store")
    docs = commands.add_parser("docs", help="write the generated reference pages: docs/configuration.md (every "
                               "configuration field, from zoo/config.py)")
    docs.add_argument("--out", default="docs", help="folder of the pages (default: docs)")
    recorded = commands.add_parser("records", help="the studies' committed run records: import them into the store")
    recorded.add_argument("action", choices=("import",))
    recorded.add_argument("folder", help="a folder with records.jsonl files below it, e.g. docs/results")
    ui = commands.add_parser("ui", help="the MLflow UI over the store (one web worker, no GenAI job consumers); "
                             "prints each experiment's view of its variants first")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=5000)
    server = commands.add_parser("server", help="a team tracking server: mlflow server on PostgreSQL (start, stop, user, backup, restore)")
    server.add_argument("action", choices=("start", "stop", "user", "backup", "restore"))
    server.add_argument("user", nargs="*", metavar="add NAME", help="with action user: add NAME, a login with "
                        "--permission on every experiment and registered model (its password goes to "
                        "<folder>/users/NAME, readable by its owner only)")
    server.add_argument("--permission", default="READ", help="with user add: READ (default), EDIT or MANAGE")
    server.add_argument("--no-auth", action="store_true", help="start without MLflow's authentication "
                        "(loopback hosts only)")
    server.add_argument("--folder", default="mlruns/server", help="database, artifacts and logs "
                        "(default: mlruns/server)")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this "
                        "machine only; 0.0.0.0 shares it)")
    server.add_argument("--port", type=int, default=5050, help="MLflow's port (default 5050)")
    server.add_argument("--database-port", type=int, default=5433, help="PostgreSQL's port (default 5433)")
    server.add_argument("--to", help="with backup: a new folder for the backup (database dump, logins, secrets, "
                        "artifacts; owner-only)")
    server.add_argument("--from", dest="source", help="with restore: a backup folder; --folder is the new server "
                        "folder, --database-port its PostgreSQL's port")
    server.add_argument("--artifacts-destination", help="where the server keeps artifacts (default: "
                        "<folder>/artifacts; s3://bucket/path with boto3 and AWS credentials)")
    score = commands.add_parser("score", help="log-probability of sentences under a language-model run")
    score.add_argument("--run", required=True, help="MLflow run id of a finished language-model run")
    score.add_argument("sentences", nargs="+")
    generate = commands.add_parser("generate", help="sample text from a language-model run")
    generate.add_argument("--run", required=True, help="MLflow run id of a finished language-model run")
    generate.add_argument("--prompt", default="")
    generate.add_argument("--length", type=int, default=40, help="tokens to sample")
    generate.add_argument("--temperature", type=float, default=1.0)
    generate.add_argument("--seed", type=int, default=0)
    export = commands.add_parser("export", help="write model.keras, a raw-text SavedModel, a "
                                 "registered MLflow model and model.onnx of a finished run")
    export.add_argument("--run", help="MLflow run id (default: the best finished run of --experiment)")
    export.add_argument("--experiment", help="the task's experiment, e.g. sentiment (zoo.tasks: those with an export)")
    export.add_argument("--out", default="exports", help="folder of the exports (default: exports)")
    export.add_argument("--format", default="all", help="all (default) or a comma-separated list of "
                        "keras, saved_model, mlflow, onnx; formats not named and already exported stay")
    predict = commands.add_parser("predict", help="predictions of an exported model for raw texts")
    predict.add_argument("--model", required=True, help="model.keras, saved_model/, mlflow_model/, "
                         "model.onnx or models:/NAME/VERSION")
    predict.add_argument("--k", type=int, default=5, help="language model: next tokens to show")
    predict.add_argument("texts", nargs="+")
    args = parser.parse_args(argv)

    if args.command in ("score", "generate"):
        return use_language_model(args)
    if args.command in ("export", "predict"):
        from zoo import export as exporting

        if args.command == "export":
            formats = exporting.formats_of(args.format)  # a bad --format is one line before any work
            print(f"exported to {exporting.export(args.run, args.experiment, args.out, formats)}")
            return 0
        if args.k < 1:
            raise UserError(f"Invalid --k {args.k}; expected an integer >= 1.")
        for text, prediction in zip(args.texts, exporting.predict(args.model, args.texts, args.k)):
            print(json.dumps({"text": text, **prediction}, ensure_ascii=False))
        return 0
    if args.command == "ui":
        from zoo import server

        server.ui(args.host, args.port)
        return 0
    if args.command == "server":
        from zoo import server as tracking_server

        if args.action == "stop":
            tracking_server.stop(args.folder)
            print(f"stopped the tracking server of {args.folder}")
            return 0
        if args.action == "backup":
            if not args.to:
                raise UserError("Use: python -m zoo server backup --to FOLDER (a new folder), while the server runs.")
            made = tracking_server.backup(args.folder, args.to)
            print(f"backed up {made['runs']} runs of {made['server']} to {Path(args.to).resolve()} (database dump, "
                  f"logins, secrets; artifacts: {made['artifacts']}); the folder holds the server's secrets: keep it "
                  "private")
            return 0
        if args.action == "restore":
            if not args.source:
                raise UserError("Use: python -m zoo server restore --from BACKUP --folder NEW_FOLDER.")
            runs = tracking_server.restore(args.source, args.folder, args.database_port)
            print(f"restored {runs} runs into {Path(args.folder).resolve()}; start it with: python -m zoo server "
                  f"start --folder {shlex.quote(args.folder)} (with the same --artifacts-destination if its "
                  "artifacts were not in its folder)")
            return 0
        if args.action == "user":
            if len(args.user) != 2 or args.user[0] != "add":
                raise UserError("Use: python -m zoo server user add NAME --permission READ|EDIT|MANAGE.")
            path = tracking_server.add_user(args.folder, args.user[1], args.permission.upper())
            print(f"user {args.user[1]} added with {args.permission.upper()} on every experiment and registered "
                  f"model; the login (MLFLOW_TRACKING_URI, _USERNAME, _PASSWORD) is in {path}, readable by its "
                  "owner only: hand it to that person")
            return 0
        uri = tracking_server.start(args.folder, args.host, args.port, args.database_port,
                                    args.artifacts_destination, auth=not args.no_auth)
        print(f"MLflow tracking server at {uri} (PostgreSQL on 127.0.0.1:{args.database_port}, data in "
              f"{args.folder}); use it with: export MLFLOW_TRACKING_URI={uri}; stop it with: make server-stop")
        if not args.no_auth:
            secrets_file = Path(args.folder).resolve() / tracking_server.SECRETS
            print(f"authentication on: the administrator is {tracking_server.ADMIN}, with the password in "
                  f"{secrets_file} (\"admin\", readable by its owner only); log in with MLFLOW_TRACKING_USERNAME "
                  "and MLFLOW_TRACKING_PASSWORD; add people with: python -m zoo server user add NAME --permission "
                  "READ|EDIT|MANAGE")
        return 0
    if args.command == "runs":
        from zoo import checkpoints, tracking

        for stale in tracking.stale_runs():
            info, tags = stale.info, stale.data.tags
            if checkpoints.exists(info.run_id):
                hint = f"continue with: python -m zoo train --resume {info.run_id}"
            elif "sweep_grid" in tags:
                hint = f"a sweep: re-run its command (finished runs are skipped), or add --resume {info.run_id}"
            else:
                hint = "no checkpoint: train it again"
            print(f"{info.run_id}  {info.run_name}  pid {tags.get('pid')} on {tags.get('host')} is gone"
                  + ("; marked KILLED" if args.mark_killed else "") + f"; {hint}")
            if args.mark_killed:
                tracking.mark_killed(stale)
        return 0
    if args.command == "report" and args.experiment:
        from zoo.report import experiment_report

        print(f"report written to {experiment_report(args.experiment, args.run, args.out or 'reports', not args.static)}")
        return 0
    if args.command == "report":
        from zoo.presets import STUDIES

        for name in args.study or []:
            if name not in STUDIES:
                raise UserError(f"Invalid study {name!r}; valid choices: {', '.join(STUDIES)}.")
        from zoo.report import report

        print(report([STUDIES[name] for name in args.study or STUDIES], args.out or "docs/results", args.readme,
                     store=not args.records_only))
        return 0
    if args.command == "docs":
        from zoo.config import reference

        page = Path(args.out) / "configuration.md"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(reference())
        print(f"written: {page}")
        return 0
    if args.command == "records":
        from zoo import records, tracking

        imported, skipped = records.load_into_store(args.folder)
        print(f"{imported} run(s) imported into {tracking.tracking_uri()}, {skipped} already there; open them "
              "with make ui")
        return 0
    if args.command == "baselines":
        from zoo import baselines as strong

        rows, failed = strong.run_studies(strong.studies(args.study))
        print(strong.table(rows))
        return 1 if failed else 0
    if args.command == "compare":
        from zoo import tasks
        from zoo.compare import compare as compare_runs

        for experiment in args.experiment or tasks.TASKS:
            compare_runs(tasks.get(experiment).name)
        return 0
    config = apply_overrides(Config(), args.set)
    from zoo import tracking
    from zoo import train as engine  # imports TensorFlow: after the configuration is checked

    stale = tracking.stale_runs()
    if stale:
        print(f"note: {len(stale)} MLflow run(s) are RUNNING but their process is gone (killed?): "
              "python -m zoo runs --stale lists them, --mark-killed ends them, train --resume ID continues one",
              file=sys.stderr)

    if args.command == "train":
        if args.resume and args.set:
            raise UserError("train --resume continues a run with its own configuration; drop the --set options.")
        result = engine.resume(args.resume) if args.resume else engine.run(config)
        print(result.summary())
        return 1 if result.status == "FAILED" else 0
    grid = parse_grid(args.grid)
    if not grid:
        raise UserError("sweep needs at least one --grid FIELD=V1,V2, e.g. --grid cell=vanilla,gru.")
    if args.resume and args.fresh:
        raise UserError("sweep --resume continues a sweep; --fresh starts one again: pass one of them.")
    results = engine.sweep(engine.grid(config, grid), resume=not args.fresh, parent_run_id=args.resume,
                           **executor_options(args)).results
    for result in results:
        print(result.summary())
    return 1 if any(result.status == "ERROR" for result in results) else 0


def use_language_model(args):
    from zoo import generate, tasks, tracking
    import zoo.layers  # noqa: F401  (registers the layers the logged model uses)

    config, tokenizers, net = tracking.load_run(args.run)
    if not tasks.get(config["task"]).language_model:
        valid = [name for name, spec in tasks.TASKS.items() if spec.language_model]
        raise UserError(f"MLflow run {args.run} is a {config['task']!r} run; score and generate "
                        f"need a language-model (task={' or '.join(valid)}) run.")
    if args.command == "generate" and (args.temperature <= 0 or not 1 <= args.length <= generate.MAX_LENGTH):
        raise UserError(f"generate needs --temperature > 0 and --length from 1 to {generate.MAX_LENGTH:,}.")
    tokenizer = tokenizers["tokens"]
    if args.command == "generate":
        print(generate.generate(net, tokenizer, args.prompt, args.length, args.temperature, args.seed))
        return 0
    for sentence in args.sentences:
        print(f"{generate.score(net, tokenizer, sentence):10.3f}  {sentence}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
