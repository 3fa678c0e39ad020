"""The README's Python quickstart works exactly as written against `grantline serve --dev`."""

import os
import re
import subprocess
import sys

from conftest import REPO, Browser


def quickstart():
    readme = (REPO / "README.md").read_text()
    return re.search(r"<!-- python-quickstart.*?-->\n```python\n(.*?)```", readme, re.S).group(1)


def test_the_readme_quickstart_connects_the_sandbox_account(broker):
    env = dict(os.environ, GRANTLINE_API_KEY=broker.api_key, GRANTLINE_BASE_URL=broker.base_url)
    proc = subprocess.Popen([sys.executable, "-c", quickstart()], env=env, stdout=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first.startswith("Open in your browser: "), first
    Browser().sandbox_consent(first.split(": ", 1)[1].strip())  # the user clicks Allow
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert re.search(r"^ca_\S+ ACTIVE$", out, re.M), out
    assert "sandbox True" in out, out
