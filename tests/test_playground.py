"""The playground in a real browser: Debian's chromium driven by Playwright.

`openenv-grpc playground ADDR` runs as a subprocess, a client of a real env
server on loopback, and the page is used as a person would: reset, ten steps
through the action form, a typed text action, a tool call, the watch tab.
Frames on the page are compared with the local env's, pixel for pixel.
Screenshots of each state go to a temporary directory, or to docs/images/
with UPDATE_SCREENSHOTS=1 (how the README's pictures are made).
"""

from __future__ import annotations

import base64
import os
import pathlib
import re
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from openenv_grpc.adapters.gymnasium import gymnasium_factory
from openenv_grpc.client import EnvClient

from conftest import StartServer
from frameenvs import Typist
from processes import CLI, ROOT

CHROMIUM = "/usr/bin/chromium"  # Debian's (`make tools-browser`); a missing one fails
URL = re.compile(r"openenv-grpc playground of \S+ on (?P<url>http://\S+)")
PIXELS_JS = """(id) => {
  const img = document.getElementById(id);
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let rgb = "";
  for (let i = 0; i < data.length; i += 4) {
    rgb += String.fromCharCode(data[i], data[i + 1], data[i + 2]);
  }
  return [canvas.height, canvas.width, btoa(rgb)];
}"""


class Playground:
    """`openenv-grpc playground ADDR --port 0` and the URL it announced."""

    def __init__(self, address: str) -> None:
        self.proc = subprocess.Popen(
            [*CLI, "playground", address, "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        match = URL.search(first)
        assert match, first + self.proc.stdout.read()
        self.url = match["url"]
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        self.output.extend(self.proc.stdout)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._reader.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert pathlib.Path(CHROMIUM).exists(), "no chromium: run `make tools-browser`"
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def playground(start_server: StartServer) -> Iterator[Any]:
    started: list[Playground] = []

    def start(factory: Any, **config: Any) -> tuple[Playground, str]:
        server = start_server(factory, **config)
        pg = Playground(server.address)
        started.append(pg)
        return pg, server.address

    yield start
    for pg in started:
        pg.stop()


@pytest.fixture
def shots(tmp_path: pathlib.Path) -> pathlib.Path:
    if os.environ.get("UPDATE_SCREENSHOTS"):
        return ROOT / "docs" / "images"
    return tmp_path


def screenshot(page: Page, path: pathlib.Path) -> None:
    """A small PNG of the page (a palette of 64 colours is plenty for it)."""
    from PIL import Image

    page.screenshot(path=str(path))
    with Image.open(path) as shot:
        shot.convert("RGB").quantize(colors=64).save(path, optimize=True)


def pixels(page: Page, element_id: str) -> np.ndarray:
    height, width, rgb = page.evaluate(PIXELS_JS, element_id)
    return np.frombuffer(base64.b64decode(rgb), np.uint8).reshape(height, width, 3)


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1360, "height": 820})
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    return page


def answers(page: Page) -> int:
    return int(page.evaluate("Number(document.body.dataset.answers || 0)"))


def wait_answers(page: Page, count: int) -> None:
    page.wait_for_function(f"Number(document.body.dataset.answers || 0) >= {count}")


def test_reset_and_ten_steps_change_the_observation_and_the_frame(
    browser: Browser, playground: Any, shots: pathlib.Path
) -> None:
    pg, _ = playground(gymnasium_factory("CartPole-v1"))
    page = open_page(browser, pg.url)
    assert page.inner_text("#env-name") == "CartPole-v1"
    assert "Discrete(2)" in page.inner_text("#action-space")
    assert page.locator("#action-form button[data-action]").count() == 2
    screenshot(page, shots / "playground-loaded.png")

    page.click("button[data-action='1']")  # before any reset: the error is shown
    wait_answers(page, 2)
    assert "reset first" in page.inner_text("#error")

    page.fill("#seed", "5")
    page.click("#reset")
    page.wait_for_function("document.getElementById('frame').src.startsWith('data:image/png')")
    observation, frame = page.inner_text("#observation"), page.get_attribute("#frame", "src")
    local = gym.make("CartPole-v1", render_mode="rgb_array")
    local.reset(seed=5)
    assert np.array_equal(pixels(page, "frame"), local.render())
    screenshot(page, shots / "playground-reset.png")

    done = answers(page)
    for k in range(10):
        page.click(f"button[data-action='{k % 2}']")
        local.step(k % 2)
    wait_answers(page, done + 10)
    assert page.inner_text("#step") == "10"
    assert page.inner_text("#return") == "10"
    assert page.inner_text("#observation") != observation
    assert page.get_attribute("#frame", "src") != frame
    assert page.get_attribute("#frame", "data-step") == "10"
    assert page.locator("#history tbody tr").count() == 10
    assert np.array_equal(pixels(page, "frame"), local.render())  # pixel for pixel
    assert page.inner_text("#error") == ""
    screenshot(page, shots / "playground-ten-steps.png")
    local.close()
    page.close()


def test_a_text_env_takes_typed_actions_and_a_tool_call_returns_its_result(
    browser: Browser, playground: Any, shots: pathlib.Path
) -> None:
    pg, _ = playground(Typist)
    page = open_page(browser, pg.url)
    assert page.locator("#tools fieldset[data-tool='count']").count() == 1
    page.click("#reset")
    wait_answers(page, 2)
    for word in ("hello", " world"):
        done = answers(page)
        page.fill("#action-text", word)
        page.press("#action-text", "Enter")
        wait_answers(page, done + 1)
    assert page.inner_text("#step") == "2"
    assert "hello world" in page.inner_text("#observation")
    assert page.inner_text("#frame-text") == "page: hello world"
    assert '"letters": 5' in page.inner_text("#components")
    assert page.inner_text("#return") == "11"
    screenshot(page, shots / "playground-text.png")

    done = answers(page)
    page.fill("#tool-count-letter", "l")
    page.click("#tool-count")
    wait_answers(page, done + 1)
    assert '"count": 3' in page.inner_text("#tool-result")
    screenshot(page, shots / "playground-tool.png")
    page.close()


def test_the_watch_tab_follows_a_trainers_session(
    browser: Browser, playground: Any, shots: pathlib.Path
) -> None:
    pg, address = playground(gymnasium_factory("CartPole-v1"))
    page = open_page(browser, pg.url)
    page.click("#tab-watch")
    with EnvClient(address) as trainer:
        stream = trainer.stream(render_mode="rgb_array")
        stream.reset(seed=11)
        page.fill("#watch-session", stream.session_id)
        page.fill("#watch-fps", "30")
        page.click("#watch-start")
        page.wait_for_function(
            "document.getElementById('watch-status').textContent.startsWith('watching')"
        )
        local = gym.make("CartPole-v1", render_mode="rgb_array")
        local.reset(seed=11)
        expected = {}
        for k in range(10):
            stream.step(k % 2)
            local.step(k % 2)
            expected[k + 1] = local.render()
        page.wait_for_function("document.getElementById('watch-steps').textContent === '10'")
        page.wait_for_function("document.getElementById('watch-frame').src.startsWith('data:')")
        step = int(page.get_attribute("#watch-frame", "data-step") or "0")
        assert np.array_equal(pixels(page, "watch-frame"), expected[step])
        assert page.locator("#watch-log tbody tr").count() == 10
        screenshot(page, shots / "playground-watch.png")
        stream.close()  # the stream's session ends, and with it the watch
        page.wait_for_function(
            "document.getElementById('watch-status').textContent.startsWith('the session ended')"
        )
        local.close()
    page.close()


def test_another_sites_page_cannot_use_the_playground(playground: Any) -> None:
    pg, _ = playground(Typist)
    ws_url = pg.url.replace("http://", "ws://") + "ws/play"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url, origin="http://elsewhere.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    with connect(ws_url) as own:  # no Origin: a program, not a browser page
        assert '"type": "spec"' in str(own.recv(timeout=30))
