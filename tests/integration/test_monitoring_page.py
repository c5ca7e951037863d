"""The monitoring page of a running worker, in a real headless Chromium (Debian's
`chromium` + `chromium-driver`, driven by Selenium): it loads, refreshes itself, and
shows a command submitted during the test, a failed one with its error, the DLQ, and
the deployment's workers (another worker type, from the heartbeat topic) as healthy."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from enginedge_streams.records import Status
from tests.support.workers import http_get

pytestmark = pytest.mark.timeout(240)

WORKER = "scheduling"
OTHER = "spacy"  # a second worker type of the deployment (same topic prefix)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
]


@pytest.fixture(scope="module")
def worker(module_worker_factory):
    other = module_worker_factory(OTHER, start=False)
    other.start(wait=False)  # both start at once
    serving = module_worker_factory(WORKER)
    other.wait_ready()
    serving.other = other
    return serving


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and chromedriver, "apt: chromium chromium-driver (scripts/system-packages.txt)"
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(
        executable_path=chromedriver,
        log_output=str(tmp_path / "chromedriver.log"),
    )
    driver = webdriver.Chrome(options=options, service=service)  # no driver download: paths given
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()  # chromedriver stops the Chromium it started


def wait(driver, condition, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.25).until(condition)


def fleet_rows(driver):
    """The Workers panel's rows, read in one script call (the page redraws them every second)."""
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('#fleet tbody tr[data-instance-id]'),"
        " r => [r.dataset.instanceId, r.dataset.workerType, r.dataset.health, r.innerText]);"
    )
    return {instance: (worker_type, health, text) for instance, worker_type, health, text in rows}


def row(driver, table, command_id):
    """A row's cell texts, read in one script call (rows are redrawn every second)."""
    return driver.execute_script(
        "const r = document.querySelector("
        "`#${arguments[0]} tbody tr[data-command-id='${arguments[1]}']`);"
        " return r ? Array.from(r.cells, c => c.innerText.trim()) : null;",
        table,
        command_id,
    )


async def test_monitoring_page_in_a_real_browser(worker, module_bus, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(f"{worker.url}/monitor?refresh=1")
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded"))
    assert browser.find_element(By.ID, "worker-type").text == WORKER
    wait(browser, lambda d: d.find_element(By.ID, "ready").text == "ready")
    assert browser.find_element(By.ID, "health").text == "healthy"
    checks = {
        r.get_attribute("data-check"): r.text
        for r in browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")
    }
    assert {"kafka", "redis", "components"} <= set(checks) and "joined" in checks["kafka"]
    lag_rows = browser.find_elements(By.CSS_SELECTOR, "#lag tbody tr")
    assert lag_rows and f"worker.{WORKER}.requests" in lag_rows[0].text

    # The Workers panel lists both worker types of the deployment, healthy, from heartbeats.
    def both_healthy(d):
        health = {(t, h) for t, h, _ in fleet_rows(d).values()}
        return {(WORKER, "healthy"), (OTHER, "healthy")} <= health

    wait(browser, both_healthy)
    assert browser.find_element(By.ID, "fleet-status").text == "live"
    texts = {t: text for t, _, text in fleet_rows(browser).values()}
    assert f":{worker.other.port}" in texts[OTHER] and "(this page)" in texts[WORKER]

    # The page refreshes by fetch, not by reloading: this marker survives the updates.
    browser.execute_script("window.__sameDocument = true;")

    # A command submitted now appears, with its status and duration.
    ok = await module_bus.call(WORKER, "system.ping", {"echo": uuid.uuid4().hex}, timeout=60)
    assert ok.status is Status.COMPLETED
    cells = wait(browser, lambda d: row(d, "recent", ok.command_id))
    _, command_id, command_type, status, ms = cells
    assert (command_id, command_type, status) == (ok.command_id, "system.ping", "COMPLETED")
    assert float(ms) == pytest.approx(ok.processing_ms, abs=0.1)
    assert row(browser, "failures", ok.command_id) is None

    # A failed command appears under failures, with its error code and message.
    bad = await module_bus.call(WORKER, "system.ping", {"delay_ms": "later"}, timeout=60)
    assert bad.status is Status.FAILED
    cells = wait(browser, lambda d: row(d, "failures", bad.command_id))
    _, command_id, command_type, code, message = cells
    assert (command_id, command_type, code) == (bad.command_id, "system.ping", "INVALID_PAYLOAD")
    assert "delay_ms" in message and message == bad.error.message[:500]
    assert row(browser, "recent", bad.command_id)[3] == "FAILED"

    # An undecodable message is counted in the DLQ box.
    dlq_before = int(browser.find_element(By.ID, "dlq-count").text)
    await module_bus.send_raw(
        f"{module_bus.prefix}worker.{WORKER}.requests", b"{broken json", key=b"poison"
    )
    wait(browser, lambda d: int(d.find_element(By.ID, "dlq-count").text) == dlq_before + 1)
    assert int(browser.find_element(By.ID, "failed").text) >= 1
    assert browser.execute_script("return window.__sameDocument === true;")
    assert browser.find_element(By.ID, "stale").text == ""

    # No script errors (the strict Content-Security-Policy lets the page's own code run).
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    browser.save_screenshot(str(tmp_path / "monitor.png"))

    # The JSON behind the page says the same.
    status, body = http_get(f"{worker.url}/monitor/data")
    data = json.loads(body)
    assert status == 200 and data["worker"]["workerType"] == WORKER
    assert data["readiness"]["ready"] is True
    fleet = {w["worker_type"]: w for w in data["fleet"]["workers"]}
    assert data["fleet"]["status"] == "ok"
    assert fleet[OTHER]["health"] == "healthy" and fleet[OTHER]["port"] == worker.other.port
    assert fleet[WORKER]["self"] and fleet[WORKER]["status"] in ("idle", "busy")
    assert data["dlq"]["count"] == dlq_before + 1
    recent = {r["command_id"]: r for r in data["commands"]["recent"]}
    assert recent[ok.command_id]["status"] == "COMPLETED"
    assert recent[bad.command_id]["error"]["code"] == "INVALID_PAYLOAD"
    assert [f["command_id"] for f in data["failures"]].count(bad.command_id) == 1
