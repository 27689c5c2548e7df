"""What a person sees, in a real browser: the MLflow UI started as `make ui` starts it, over a
store that a small sweep has just filled, and the sweep's HTML report; headless Chromium (Debian's
`chromium`) driven by Playwright. Screenshots go to $ZOO_SCREENSHOTS (the README's come from
`ZOO_SCREENSHOTS=docs/screenshots make test-browser`), else to a temporary folder."""

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import free_port
from zoo import server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: make install-browser")
expect = sync_api.expect
pytestmark = [pytest.mark.browser,  # make test-browser
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed: make install-browser")]
TINY = ["--set", "task=adding", "--set", "examples=128", "--set", "sequence_length=8", "--set", "units=8",
        "--set", "epochs=2", "--set", "batch_size=32"]
VARIANTS = ("vanilla-tanh-noclip", "gru-noclip")
WAIT_MS = 60_000  # the longest wait for anything on a page (a loaded 2-core machine)


SCREENSHOTS = os.environ.get("ZOO_SCREENSHOTS") and Path(os.environ["ZOO_SCREENSHOTS"]).resolve()  # from where
# pytest started: the fixtures below change the working directory


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = SCREENSHOTS or tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A store with one sweep (2 cells x 2 seeds of the adding task) in a temporary folder; yields
    (folder, parent run id)."""
    from zoo import report
    from zoo.__main__ import main

    folder = tmp_path_factory.mktemp("ui-store")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "1")  # a few samples from runs of seconds
        assert main(["sweep", "--grid", "cell=vanilla,gru", "--grid", "seed=0,1", *TINY]) == 0
        yield folder, report.sweep_parent("adding")["run_id"]


@pytest.fixture(scope="module")
def ui(swept):
    """`python -m zoo ui` (what `make ui` runs) on a free port: (its base address, the view link it
    printed for experiment `adding`); stopped afterwards."""
    folder, _ = swept
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    log = open(folder / "ui.log", "w+")
    process = subprocess.Popen([sys.executable, "-m", "zoo", "ui", "--port", str(port)], cwd=folder, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        server.wait_until_up(base, process, 180, folder / "ui.log")
        printed = (folder / "ui.log").read_text()
        link = re.search(r"^adding: (\S+)$", printed, re.M)
        assert link, printed[-2000:]
        yield base, link.group(1)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # mlflow ui and its web worker
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def new_page(browser):
    """A page of a fresh browser profile (nothing remembered between tests), 1400 x 900."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(WAIT_MS)
    return page


def experiment_of(link):
    """The experiment id in a link of the UI."""
    return re.search(r"#/experiments/(\d+)", link).group(1)


def close_assistant(page):
    """MLflow 3.17 opens its Assistant panel beside the runs; a person closes it."""
    assistant = page.get_by_text("MLflow Assistant")
    if assistant.count():
        page.get_by_role("button", name="Close").first.click()


def test_the_link_make_ui_prints_opens_the_variants_with_their_metrics(ui, browser, shots):
    base, link = ui
    page = new_page(browser)
    page.goto(base)  # the home page: the experiment list
    page.get_by_role("link", name="adding").first.wait_for()
    page.goto(link)
    for variant in VARIANTS:  # grouped by variant, each group expanded to its two seeds' runs
        page.get_by_text(f"Group: {variant}").wait_for()
        expect(page.get_by_role("link", name=f"adding-{variant}")).to_have_count(2)
    close_assistant(page)
    for metric in ("test_mse", "val_loss", "train_seconds"):
        expect(page.get_by_role("columnheader", name=metric, exact=True).first).to_be_visible()
    expect(page.get_by_text("(average)").first).to_be_visible()  # the group rows: the mean over the seeds
    expect(page.get_by_text("zoo: variants (mean over seeds)")).to_be_visible()  # the saved view, by name
    page.screenshot(path=shots / "ui-variants.png")


def test_the_sweep_parent_nests_its_children_and_compare_shows_them_side_by_side(ui, swept, browser, shots):
    base, link = ui
    page = new_page(browser)
    page.goto(f"{base}/#/experiments/{experiment_of(link)}/runs?workflowType=machine_learning")  # the plain table
    page.get_by_role("link", name="adding-sweep").wait_for()
    close_assistant(page)
    children = page.get_by_role("link", name=re.compile(r"^adding-.*-noclip$"))
    expect(children).to_have_count(0)  # collapsed under the parent
    page.locator("[role=row]", has=page.get_by_role("link", name="adding-sweep")).get_by_role("button").first.click()
    expect(children).to_have_count(4)
    page.screenshot(path=shots / "ui-sweep.png")
    boxes = page.get_by_role("checkbox", name=re.compile("toggle row selection"))
    expect(boxes).to_have_count(5)  # the parent's row first, then its children's
    for i in range(1, 5):  # select the children, then Compare
        boxes.nth(i).check()
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile("compare-runs"))
    page.get_by_text("Comparing 4 Runs").wait_for()
    for variant in VARIANTS:  # the run names in the runs' columns, the metrics as rows
        expect(page.get_by_text(f"adding-{variant}", exact=True)).to_have_count(2)
    val_loss = page.get_by_role("link", name="val_loss", exact=True)  # its row, further down: the page
    for _ in range(30):  # draws the rows it scrolls to
        if val_loss.count():
            break
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(200)
    expect(val_loss).to_be_visible()
    page.screenshot(path=shots / "ui-compare.png", full_page=True)


def test_each_run_shows_its_datasets_and_its_system_metrics(ui, browser, shots):
    base, link = ui
    page = new_page(browser)
    page.goto(f"{base}/#/experiments/{experiment_of(link)}/runs?workflowType=machine_learning")
    page.get_by_role("link", name="adding-sweep").wait_for()
    close_assistant(page)
    page.locator("[role=row]", has=page.get_by_role("link", name="adding-sweep")).get_by_role("button").first.click()
    child = page.get_by_role("link", name="adding-gru-noclip").first
    child.wait_for()
    expect(page.get_by_role("columnheader", name=re.compile("Dataset")).first).to_be_visible()
    expect(page.get_by_text("adding-train").first).to_be_visible()  # each child's datasets, per split
    page.screenshot(path=shots / "ui-datasets.png")
    child.click()
    page.get_by_role("tab", name="System metrics").click()
    expect(page.get_by_text(re.compile("cpu_utilization_percentage")).first).to_be_visible()
    page.wait_for_timeout(1000)  # the charts draw
    page.screenshot(path=shots / "ui-system-metrics.png")


@pytest.mark.parametrize("artifact", ["comparison.png", "val_loss_curves.png"])
def test_the_parents_comparison_pictures_open_in_the_artifact_view(ui, swept, browser, shots, artifact):
    base, link = ui
    _, parent = swept
    page = new_page(browser)
    page.goto(f"{base}/#/experiments/{experiment_of(link)}/runs/{parent}/artifacts?workflowType=machine_learning")
    page.get_by_text(artifact, exact=True).first.click()
    page.get_by_text(re.compile(f"artifacts/{re.escape(artifact)}$")).wait_for()  # the viewer's "Path: ..."
    # the picture, fetched from the store into the viewer (a blob: image), has loaded
    page.wait_for_function("() => [...document.images].some(i => i.src.startsWith('blob:') && i.complete "
                           "&& i.naturalWidth > 300)")
    close_assistant(page)
    page.screenshot(path=shots / f"ui-artifact-{artifact}")


def test_the_sweep_report_renders_offline_with_every_picture_and_hover(swept, browser, shots, monkeypatch):
    from zoo.__main__ import main

    folder, _ = swept
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["report", "--experiment", "adding"]) == 0
    path = next((folder / "reports").glob("adding-*.html"))
    page = new_page(browser)
    requested = []

    def only_the_file(route):  # no network: anything but the file itself is refused
        requested.append(route.request.url)
        (route.continue_ if route.request.url.startswith("file:") else route.abort)()

    page.route("**/*", only_the_file)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert [url for url in requested if not url.startswith("file:")] == []
    for details in page.locator("details").all():  # the folded pictures and configurations
        details.evaluate("element => element.open = true")
    images = page.locator("img")
    assert images.count() >= 5
    broken = page.evaluate("[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length")
    assert broken == 0
    page.screenshot(path=shots / "report.png")
    # hovering a point of the validation curves names its variant and value
    plot = page.locator("#val_curves")
    plot.locator(".main-svg").first.wait_for()
    point = plot.locator(".scatterlayer .trace .points path").first.bounding_box()
    page.mouse.move(point["x"] + point["width"] / 2, point["y"] + point["height"] / 2)  # as a person's pointer
    label = plot.locator(".hoverlayer .hovertext")
    label.first.wait_for()
    text = label.first.text_content()
    assert any(variant in text for variant in VARIANTS) and "val_loss" in text, text
    plot.screenshot(path=shots / "report-hover.png")
