"""The study on a tiny generated task: recipe search, a grid interrupted and resumed, the report."""

import dataclasses

import pandas as pd
import pytest

from zoo import records, report, tracking, train
from zoo.config import Config
from zoo.errors import UserError
from zoo.presets import STUDIES
from zoo.study import CLIPPING, Study, cell_of, grid_configs, search_configs

TINY = Study("tiny", "adding, tiny", base=Config(task="adding", examples=128, sequence_length=8, units=8, epochs=1,
                                                 batch_size=64, flow_samples=2, grad_norm_every=2),
             search=dict(epochs=1), rates={"adam": (1e-3, 3e-2)}, seeds=(0, 1), cells=("vanilla-tanh",),
             recipes={"vanilla-tanh": dict(optimizer="adam", learning_rate=1e-2)})


def interrupt_run(monkeypatch, at):
    """Makes train.run raise KeyboardInterrupt (Ctrl-C) on its `at`-th call; returns the real one."""
    real_run, calls = train.run, []

    def interrupted(config, **kwargs):
        calls.append(config)
        if len(calls) == at:
            raise KeyboardInterrupt
        return real_run(config, **kwargs)

    monkeypatch.setattr(train, "run", interrupted)
    return real_run


def test_a_study_searches_resumes_after_an_interruption_and_reports_from_the_store(store, monkeypatch, capsys):
    search = train.sweep(search_configs(TINY, "vanilla-tanh"), name="tiny-search-vanilla-tanh")
    recipe = tracking.best_recipe(search.run_id)
    assert recipe["optimizer"] == "adam" and recipe["learning_rate"] in (1e-3, 3e-2)

    configs = grid_configs(TINY)
    assert [(c.seed, c.clipping, c.learning_rate) for c in configs] == [
        (0, "none", 1e-2), (0, "global_norm", 1e-2), (1, "none", 1e-2), (1, "global_norm", 1e-2)]
    real_run = interrupt_run(monkeypatch, 3)  # Ctrl-C at the third run
    with pytest.raises(KeyboardInterrupt):
        train.sweep(configs, name="tiny-study")
    monkeypatch.setattr(train, "run", real_run)
    capsys.readouterr()
    resumed = train.sweep(configs, name="tiny-study")  # the same command again
    assert "2 of 4 configurations already have a finished run" in capsys.readouterr().out
    assert [r.name.split("-", 1)[1] for r in resumed.results] == ["vanilla-tanh-noclip", "vanilla-tanh-clip1"]
    assert resumed.table["runs"].tolist() == [2, 2]  # both seeds of each variant, from both sweeps
    children = tracking.runs("adding", parent_run_id=resumed.run_id)  # the interrupted sweep's parent went on
    assert sorted(children["params.seed"]) == ["0", "0", "1", "1"] and tracking.get_run(resumed.run_id).info.status == "FINISHED"
    assert (tracking.runs("adding")["tags.mlflow.runName"] == "tiny-study").sum() == 1

    readme = store / "README.md"
    readme.write_text(f"# Results\n{report.MARKERS[0]}\nold text\n{report.MARKERS[1]}\nkept\n")
    reads, read = [], tracking.metric_keys_and_steps
    monkeypatch.setattr(tracking, "metric_keys_and_steps", lambda run_id, keys: reads.append(run_id) or read(run_id, keys))
    block = report.report([TINY], store / "results", readme)
    assert reads and len(reads) == len(set(reads))  # each run's metric histories read from the store once
    text = readme.read_text()
    page = (store / "results" / "tiny" / "README.md").read_text()  # the study's page; the README: its headline
    assert "old text" not in text and page.strip() == block and text.endswith("kept\n")
    (row,) = [line for line in text.splitlines() if "[tiny](results/tiny/README.md)" in line]
    cells = [cell.strip() for cell in row.strip("|").split("|")]  # the headline: metric, best cell, ...
    assert cells[1] == "mse" and cells[2] in ("vanilla-tanh (noclip)", "vanilla-tanh (clip)") and "(2 seeds)" in cells[3]
    assert "0.001: " in block and "0.03: " in block  # the search's validation losses, one per rate
    rows = [line for line in block.splitlines() if line.startswith("| vanilla-tanh ")]
    assert len(rows) == 3 and all("| 2 of 2 " in row for row in rows[1:])  # the search row and the grid's two
    runs_md = (store / "results" / "tiny" / "runs.md").read_text()  # every grid run, linked from the block
    listed = [line for line in runs_md.splitlines() if line.startswith("| vanilla-tanh ")]
    assert len(listed) == 4 and "](../tiny/runs.md)" in block
    cells = [[value.strip() for value in line.strip("|").split("|")] for line in listed]
    grid = tracking.runs("adding").query("`params.learning_rate` == '0.01'")  # the search ran 1e-3 and 3e-2
    assert {row[3] for row in cells} == set(grid["run_id"]) and sorted(row[2] for row in cells) == ["0", "0", "1", "1"]
    assert all(float(row[-1]) > 0 for row in cells)  # each run's test metric
    for name in ("val_curves.png", "gradients.png", "gradient_flow.png"):
        assert (store / "results" / "tiny" / name).read_bytes()[:4] == b"\x89PNG"
        assert f"](../tiny/{name})" in block
    # the records alone give the same block and figures, byte for byte, without reading the store
    records_path = store / "results" / "tiny" / "records.jsonl"
    recorded = records.read(records_path)
    assert sorted(r["role"] for r in recorded) == ["grid"] * 4 + ["search"] * 2
    assert all("host" not in r["tags"] and "pid" not in r["tags"] for r in recorded)
    figures = {name: (store / "results" / "tiny" / name).read_bytes() for name in ("val_curves.png", "gradients.png")}
    again = store / "README-again.md"
    again.write_text(f"{report.MARKERS[0]}\n{report.MARKERS[1]}\n")
    with monkeypatch.context() as patched:
        patched.setattr(tracking, "runs", lambda *a, **k: pytest.fail("read the store"))
        assert report.report([TINY], store / "results", again, store=False) == block
    assert again.read_text() == text.split(report.MARKERS[0])[1].split(report.MARKERS[1])[0].join(report.MARKERS) + "\n"
    assert (store / "results" / "tiny" / "README.md").read_text() == page
    assert figures == {name: (store / "results" / "tiny" / name).read_bytes() for name in figures}
    # imported into a new store: the same runs, by their original ids, once however often imported
    here = tracking.tracking_uri()
    with monkeypatch.context() as patched:
        patched.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store / 'other.db'}")
        assert records.load_into_store(store / "results") == (6, 0)
        assert records.load_into_store(store / "results") == (0, 6)
        imported = tracking.runs("adding")
        assert sorted(imported["tags.record_of"]) == sorted(r["run_id"] for r in recorded)
        first = recorded[0]
        copy = imported[imported["tags.record_of"] == first["run_id"]].iloc[0]
        assert tracking.metric_history(copy["run_id"], "val_loss") == first["histories"]["val_loss"][1]
        assert copy["status"] == first["status"] and copy["params.seed"] == first["params"]["seed"]
        assert records.in_store(TINY) and sorted(map(records.json.dumps, records.in_store(TINY))) == \
            sorted(records.json.dumps(r) for r in recorded)  # exported again: the same records
    monkeypatch.setenv("MLFLOW_TRACKING_URI", here)  # MLflow exports the last store it opened as this variable
    assert records.load_into_store(store / "results") == (0, 6)  # the store that wrote them has every run
    # reporting another study (here: none of them) keeps this one's page and row in the README's table
    monkeypatch.setitem(STUDIES, TINY.name, TINY)
    assert report.report([], store / "results", readme) == "No study has runs in this store yet."
    assert readme.read_text() == text
    # asking for a study this store has no run of (a new machine's store) keeps its page and row too
    elsewhere = dataclasses.replace(TINY, base=dataclasses.replace(TINY.base, examples=64))
    assert report.report([elsewhere], store / "other", readme).startswith("No run of tiny in sqlite:")
    assert readme.read_text() == text
    # a study whose grid is an earlier store's (its page and runs.md, run ids not among the records)
    # and whose new grid is under way (2 seeds of 3): the earlier page stays, and below it come the
    # earlier grid's intervals, the new search in the records, then the new grid so far; again: the same
    earlier = dataclasses.replace(TINY, seeds=(0, 1, 2))
    for k, row in enumerate(cells):
        runs_md = runs_md.replace(row[3], f"earlier{k}")
    (store / "results" / "tiny" / "runs.md").write_text(runs_md)
    (store / "results" / "tiny" / "README.md").write_text("# The earlier store's page\n")
    report.report([earlier], store / "results", readme, store=False)
    page = (store / "results" / "tiny" / "README.md").read_text()
    assert page.startswith("# The earlier store's page\n\n" + report.ADDENDUM)
    parts = ["Paired differences", "A new recipe search", "0.001: ", "A new grid is under way: 4 of 6 runs"]
    assert [page.find(part) for part in parts] == sorted(page.find(part) for part in parts) and -1 not in [
        page.find(part) for part in parts]
    report.report([earlier], store / "results", readme, store=False)
    assert (store / "results" / "tiny" / "README.md").read_text() == page


def test_a_grid_without_a_cells_recipe_is_one_line_that_says_how_to_get_it():
    study = dataclasses.replace(TINY, cells=("vanilla-tanh", "gru"))
    with pytest.raises(UserError, match=r"No recipe yet for gru in study 'tiny': run python experiments/study.py tiny "
                                        "--stage search"):
        grid_configs(study)
    assert {cell_of(study, config) for config in grid_configs(study, ["vanilla-tanh"])} == {"vanilla-tanh"}


def test_the_study_script_runs_the_seeds_it_is_given_and_refuses_a_bad_list(store, script, monkeypatch, capsys):
    monkeypatch.setitem(STUDIES, TINY.name, TINY)
    study = script("study")
    assert study.main(["tiny", "--seeds", "1"]) == 0
    runs = tracking.runs("adding")
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert sorted(children["params.seed"]) == ["1", "1"] and set(children["params.clipping"]) == set(CLIPPING)
    assert study.main(["tiny", "--seeds", "1,two"]) == 2
    assert "Received an invalid value for argument `--seeds`" in capsys.readouterr().err
    assert len(tracking.runs("adding")) == len(runs)  # nothing ran


def test_sweep_resume_continues_the_same_parent_run(store, monkeypatch, capsys):
    from zoo.__main__ import main

    argv = ["sweep", "--set=examples=128", "--set=sequence_length=8", "--set=units=4", "--set=epochs=1",
            "--set=flow_samples=1", "--grid=seed=0,1"]
    real_run = interrupt_run(monkeypatch, 2)  # Ctrl-C before the second child
    assert main(argv) == 130
    monkeypatch.setattr(train, "run", real_run)
    runs = tracking.runs("adding")
    parent = runs[runs["tags.mlflow.parentRunId"].isna()]
    assert parent["status"].tolist() == ["KILLED"]
    assert main([*argv, f"--resume={parent['run_id'].iloc[0]}"]) == 0
    runs = tracking.runs("adding")
    assert len(runs) == 3 and runs["status"].eq("FINISHED").all()  # one parent, finished, and two children
    children = runs[runs["tags.mlflow.parentRunId"] == parent["run_id"].iloc[0]]
    assert sorted(children["params.seed"]) == ["0", "1"]
    assert main([*argv, f"--resume={children['run_id'].iloc[0]}"]) == 2  # a child is not a sweep
    assert "is not a sweep's parent run" in capsys.readouterr().err


def test_a_sweep_report_is_one_self_contained_html_file_logged_to_its_parent(store, capsys):
    import base64
    import re

    import mlflow

    from zoo.__main__ import main

    tiny = ["--set", "task=adding", "--set", "examples=128", "--set", "sequence_length=8", "--set", "units=8",
            "--set", "epochs=2", "--set", "batch_size=32"]
    assert main(["sweep", "--grid", "cell=vanilla,gru", "--grid", "seed=0,1", *tiny]) == 0
    capsys.readouterr()
    assert main(["report", "--experiment", "adding"]) == 0
    path = capsys.readouterr().out.strip().split("report written to ")[1]
    page = open(path).read()
    assert "vanilla-tanh-noclip" in page and "gru-noclip" in page and "test_mse_mean" in page
    images = re.findall(r'<img[^>]*src="([^"]+)"', page)
    assert len(images) >= 3 + 2  # curves, gradients, flow, and a heatmap per variant
    for source in images:  # every picture is inside the page: it opens without the store or a network
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # nothing is fetched: no script, style, frame or picture from elsewhere (plotly.js is inside)
    assert re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//', page) is None
    assert page.count("<summary>configuration") == 2 and "<td>gru</td>" in page  # each variant's configuration
    assert str(store) not in page and "a local sqlite store" in page  # a page people share names no local path
    assert tracking.described_store("https://ann:s3cret@mlflow.example.org:5000") == (
        "the tracking server https://mlflow.example.org:5000")  # nor credentials
    # the curves are interactive too: a Plotly plot per figure, its traces named after the variants
    assert page.count('class="plotly-graph-div"') == 4 and '"name":"gru-noclip"' in page  # curves, norm, clipped, flow
    assert main(["report", "--experiment", "adding", "--static", "--out", "static"]) == 0
    static = open(capsys.readouterr().out.strip().split("report written to ")[1]).read()
    assert "plotly-graph-div" not in static and len(static) < len(page) - 4_000_000
    assert len(re.findall(r'<img[^>]*src="data:image/png', static)) == len(images)
    parent = report.sweep_parent("adding")
    logged = {a.path for a in mlflow.MlflowClient(tracking.tracking_uri()).list_artifacts(parent["run_id"])}
    assert path.rsplit("/", 1)[1] in logged
    assert main(["report", "--experiment", "sentiment"]) == 2  # no sweep there: one line
    assert "error: Experiment 'sentiment' has no sweep in" in capsys.readouterr().err


def test_first_steps_shows_adams_first_step_on_an_identity_recurrent_matrix(script, monkeypatch, capsys):
    study = dataclasses.replace(TINY, name="tiny-irnn", cells=("irnn",), recipes={"irnn": dict(optimizer="adam",
                                                                                                learning_rate=1e-2)})
    monkeypatch.setitem(STUDIES, study.name, study)
    first_steps = script("first_steps")
    assert first_steps.main(["tiny-irnn", "irnn", "--steps", "2"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| step"))
    columns = [name.strip() for name in header.strip("|").split("|")]
    rows = [[value.strip() for value in line.strip("|").split("|")] for line in out.splitlines()
            if line.startswith("| 1 ") or line.startswith("| 2 ") or line.startswith("| after 2 ")]
    first = dict(zip(columns, rows[0]))
    assert len(rows) == 3 and "max state vanilla_0" in columns
    assert float(first["radius vanilla_0"]) == 1.0 and float(first["norm vanilla_0"]) == 1.0  # the identity
    # Adam's first step moves every W_hh entry with a gradient by the learning rate, whatever its size
    assert float(first["largest W_hh change"]) == pytest.approx(1e-2, rel=1e-3)
    assert float(dict(zip(columns, rows[2]))["norm vanilla_0"]) > 1.0  # W_hh's gain grew

    assert first_steps.main(["tiny-irnn", "lstm"]) == 2
    assert "error: Invalid cell 'lstm' for study 'tiny-irnn'; valid choices: irnn." in capsys.readouterr().err


def test_paired_differences_have_t_intervals_and_say_differs_only_where_the_interval_excludes_zero():
    mean, low, high = report.t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and low == pytest.approx(2 - 4.302653 / 3 ** 0.5) and high == pytest.approx(2 + 4.302653 / 3 ** 0.5)
    assert report.t_interval([1.0])[1] != report.t_interval([1.0])[1]  # one pair: no interval (NaN)
    study = STUDIES["sst2"]
    scores = {("vanilla-tanh", "none"): [0.80, 0.81, 0.82], ("vanilla-tanh", "global_norm"): [0.85, 0.87, 0.86],
              ("irnn", "none"): [None, 0.80, 0.85], ("irnn", "global_norm"): [0.86, 0.79, 0.88]}
    frame = pd.DataFrame([{"cell": cell, "clipping": clipping, "seed": seed, "diverged": value is None,
                           "metrics.test_accuracy": float("nan") if value is None else value}
                          for (cell, clipping), values in scores.items() for seed, value in enumerate(values)])
    baselines = pd.DataFrame([{"tags.baseline": "tfidf-logreg", "metrics.test_accuracy": 0.83},
                              {"tags.baseline": "nbsvm", "metrics.test_accuracy": 0.82}])
    table = report.intervals_table(study, frame, baselines).set_index("claim (a − b)")
    clipped = table.loc["vanilla-tanh: clipping − none"]
    assert clipped["seeds paired"] == 3 and clipped["mean a − b"] == "5" and clipped["verdict"] == "differs"
    irnn = table.loc["irnn: clipping − none"]  # seed 0 diverged without clipping: left out of the pairs
    assert irnn["seeds paired"] == 2 and irnn["left out (diverged)"] == 1 and irnn["verdict"] == "no difference shown"
    best = table.loc["best cell (vanilla-tanh clip) − strongest baseline (tfidf-logreg)"]
    assert best["seeds paired"] == 3 and best["mean a − b"] == "3" and best["verdict"] == "differs"
    assert "gru − vanilla-tanh (noclip)" not in table.index  # no GRU runs: no claim about it


def test_the_experiment_scripts_run_the_study_comparison_each_cell_at_its_recipe(monkeypatch, capsys):
    from zoo import experiment, presets

    swept = []
    monkeypatch.setattr(train, "sweep", lambda configs, **options: swept.append((configs, options)))
    assert experiment.main("sentiment", presets.SENTIMENT, ["--preset", "full", "--set", "dataset=sst2",
                                                            "--seeds", "0,2"]) == 0
    configs, options = swept.pop()
    sst2 = dataclasses.replace(STUDIES["sst2"], seeds=(0, 2))
    assert configs == grid_configs(sst2) and options["name"] == "sst2-study"  # the study's own runs
    assert experiment.main("lm", presets.LANGUAGE_MODEL, ["--set", "limit=40"]) == 0  # quick, PTB
    configs, _ = swept.pop()
    ptb = STUDIES["ptb"]
    assert len(configs) == 2 * len(ptb.cells)
    for config in configs:  # each cell at its own recipe and settings, on the quick slice
        cell = cell_of(ptb, config)
        assert (config.optimizer, config.learning_rate) == (ptb.recipes[cell]["optimizer"],
                                                            ptb.recipes[cell]["learning_rate"])
        assert config.limit == 40 and config.spectral_radius == ptb.cell(cell).get("spectral_radius", 1.0)
    assert experiment.main("lm", presets.LANGUAGE_MODEL, ["--set", "learning_rate=1e-3"]) == 2
    assert "would run every cell at one recipe" in capsys.readouterr().err
    for field in ("cell=gru", "clipping=none", "activation=relu", "spectral_radius=0.9"):
        assert experiment.main("lm", presets.LANGUAGE_MODEL, ["--preset", "full", "--set", field]) == 2
        assert "is what the study varies or sets per cell" in capsys.readouterr().err
    assert experiment.main("sentiment", presets.SENTIMENT, ["--preset", "full", "--seeds", "x"]) == 2
    assert "Received an invalid value for argument `--seeds`" in capsys.readouterr().err
    assert not swept  # neither refused command ran anything


def test_an_explosion_in_one_panel_of_the_validation_curves_does_not_squash_the_others():
    """A panel's axis stops at 3x the largest curve median where a value is above it: the exploded
    value is a marked point at the top edge with its value, the other curves keep the scale; a panel
    without an explosion keeps matplotlib's own limits."""
    from zoo import plots

    panels = {"noclip": {"a": [2.0, 1e28, 1.5], "b": [1.8, 1.6, 1.4]},
              "clip": {"a": [2.0, 1.7, 1.5], "b": [1.9, 1.6, 1.4]}}
    cut, whole = plots.paneled_curves(panels, "val_loss", {"kneser-ney (baseline)": 1.3}).axes[:2]
    bottom, top = cut.get_ylim()
    assert top == pytest.approx(3 * 2.0) and bottom == pytest.approx(1.3 / 1.1)  # the medians: 2.0 and 1.6
    assert [text.get_text() for text in cut.texts] == ["1e+28"]
    assert [tuple(line.get_xydata()[0]) for line in cut.lines if line.get_marker() == "^"] == [(2.0, top)]
    assert len(whole.texts) == 0 and 1.2 < whole.get_ylim()[1] < 2.5
    assert plots.off_scale_top({"a": [1.0, float("inf")], "b": [1.0, 1.1]}) == pytest.approx(3 * 1.05)
    assert plots.off_scale_top({"a": [1.0, float("nan")], "b": [1.0, 1.1]}) is None
    assert plots.off_scale_top({"a": [0.0, 0.0], "b": [-1.0, 5.0]}) is None  # no positive median
    inf, = plots.paneled_curves({"one": {"a": [2.0, float("inf"), float("nan"), 1.5]}}, "val_loss").axes[:1]
    assert [text.get_text() for text in inf.texts] == ["inf"] and inf.get_ylim()[1] == pytest.approx(3 * 1.75)
    # a sweep's or compare's figure (every curve in one panel) cuts the same way; its legend is as
    # wide as its longest label, outside the data
    label = "lm-vanilla-tanh-clip0.25-optimizersgd-learning_rate1.0 seed 0"
    series = {"curves": {label: [2.0, 1e28, 1.5], "b": [1.8, 1.6, 1.4]}, "norms": {"b": [1.0, 2.0]},
              "clipped": {"b": [0.0, 0.5]}, "flows": {}}
    figure = report.variant_figures(series, "a sweep")["val_curves.png"]
    assert [text.get_text() for text in figure.axes[0].texts] == ["1e+28"]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    legend_box = figure.legends[0].get_window_extent(FigureCanvasAgg(figure).get_renderer())
    assert legend_box.x1 <= figure.bbox.x1 and legend_box.x0 >= figure.axes[0].get_window_extent().x1


def test_the_committed_readme_block_is_what_the_committed_records_give(tmp_path, monkeypatch):
    """The README's headline table and each study's page regenerated from docs/results
    (records.jsonl, runs.md) alone, with no store, are the committed ones byte for byte, and so are
    the figures of every study rendered from its own grid records."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "docs" / "results", tmp_path / "docs" / "results")
    shutil.copy(root / "README.md", tmp_path / "README.md")
    monkeypatch.chdir(tmp_path)  # the links in the block are relative to the README
    assert sorted(Path("docs/results").glob("*/records.jsonl")), "no study has committed records"
    report.report(list(STUDIES.values()), "docs/results", "README.md", store=False)
    assert Path("README.md").read_text() == (root / "README.md").read_text()
    for path in sorted(Path("docs/results").rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (root / path).read_bytes(), path


def test_successive_halving_keeps_a_third_then_the_best_two_at_full_size_scored_over_seeds():
    from zoo.study import halving

    study = dataclasses.replace(TINY, rates={"adam": (1, 2, 3, 4, 5, 6, 7)}, rungs=(dict(epochs=2),),
                                search_seeds=(0, 1), base=dataclasses.replace(TINY.base, epochs=3))
    ran = []

    def losses(configs):
        def loss(config):
            rate = config.learning_rate
            if config.epochs == 1:  # first budget: the lowest rate diverges in seed 1
                return float("inf") if rate == 1 and config.seed == 1 else rate
            if config.epochs == 2:
                return abs(rate - 4) + 0.5 * config.seed
            return rate  # full size
        return [loss(config) for config in configs]

    scores, ranked = halving(study, "vanilla-tanh", lambda configs, rung: ran.append((rung, configs)), losses)
    assert [(rung, len(configs)) for rung, configs in ran] == [(0, 14), (1, 6), (2, 4)]
    assert all(c.clipping == "global_norm" and c.seed in (0, 1) for _, configs in ran for c in configs)
    assert {c.epochs for c in ran[2][1]} == {3} and {c.learning_rate for c in ran[1][1]} == {2, 3, 4}
    assert ranked == [("adam", 3), ("adam", 4)]  # 4 led the middle budget, 3 won at full size
    assert scores[("adam", 1)] == [float("inf")] and scores[("adam", 4)] == [4, 0.25, 4]


def test_the_search_stage_halves_up_to_the_full_size_and_prints_choice_and_runner_up(store, script, monkeypatch,
                                                                                      capsys):
    monkeypatch.setitem(STUDIES, TINY.name, TINY)
    assert script("study").main(["tiny", "--stage", "search"]) == 0
    out = capsys.readouterr().out
    runs = tracking.runs("adding")
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert sorted(children["params.epochs"]) == ["1"] * 2  # TINY's search budget is its full size: one budget
    assert runs.loc[runs["tags.mlflow.parentRunId"].isna(), "tags.mlflow.runName"].tolist() == [
        "tiny-search-vanilla-tanh-budget0"]
    table = out.split("successive halving of study tiny")[1]
    line = next(line for line in table.splitlines() if line.startswith("| vanilla-tanh"))
    assert "adam 0.001" in line and "adam 0.03" in line and "adam 0.01" in line  # choice, runner-up, presets


def test_a_records_file_that_is_not_whole_is_one_line_and_nothing_is_imported(store):
    folder = store / "results"
    (folder / "a").mkdir(parents=True)
    good = {"format": 1, "run_id": "r1", "experiment": "adding", "name": "adding-x", "role": "grid",
            "status": "FINISHED", "start_time": 0, "end_time": 1000, "params": {"seed": "0"}, "tags": {},
            "metrics": {"test_mse": 0.5}, "histories": {"val_loss": [[1, 2], [0.9, 0.8]]}}
    (folder / "a" / "records.jsonl").write_text(records.json.dumps(good) + "\n\n")  # a blank line is fine
    (folder / "b").mkdir()
    (folder / "b" / "records.jsonl").write_text(records.json.dumps({"format": 1, "run_id": "r2"}) + "\n")
    with pytest.raises(UserError, match=r"b/records.jsonl line 1 is not a run record of format 1 \(it lacks "
                                        r"experiment, name, role"):
        records.load_into_store(folder)
    assert tracking.runs("adding").empty  # the good file was not imported either
    (folder / "b" / "records.jsonl").unlink()
    assert records.load_into_store(folder / "a" / "records.jsonl") == (1, 0)  # a file, named directly
    imported = tracking.runs("adding").iloc[0]
    assert imported["tags.record_of"] == "r1" and imported["status"] == "FINISHED"
    assert tracking.metric_history(imported["run_id"], "val_loss") == [0.9, 0.8]
