# A real browser for the playground's tests (tests/test_playground.py):
# Debian's chromium, driven by Playwright for Python (pinned in
# requirements-dev.txt) through `executable_path`, since Playwright's own
# browser download is not reachable. Installed once with apt (as root, as on
# our machines and CI); nothing runs when it is already there.

CHROMIUM ?= /usr/bin/chromium

.PHONY: tools-browser

tools-browser: $(CHROMIUM) ## Debian's chromium for the playground's browser tests

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "error: $(CHROMIUM) is missing and apt-get is not here; install chromium" >&2; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
