"""Screenshot of Label Studio's labeling view with the generated config, for docs/annotating.md.

Starts a real Label Studio (tests/labelstudio_server.py: its own venv, its own
network namespace), makes a project from `paratopics tasks config`, imports one
task of the seed article from `paratopics tasks export`, then opens the task in
headless Chromium (Debian's chromium and chromium-driver) inside the same
namespace and saves a PNG. Run as root:

    python scripts/screenshot_labelstudio.py docs/annotating-label-studio.png
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

EMAIL, PASSWORD = "docs@example.org", "docs-Passw0rd-1"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1100", "--hide-scrollbars")


def project(url: str, config: Path, tasks: Path) -> tuple[int, int]:
    """A project with the config and the tasks, owned by the docs user: (project, task)."""
    from label_studio_sdk.client import LabelStudio
    from labelstudio_client import api, signup

    session = signup(url, EMAIL, PASSWORD)
    api(session, "POST", f"{url}/api/jwt/settings",
        json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": True})
    token = api(session, "GET", f"{url}/api/current-user/token")["token"]
    client = LabelStudio(base_url=url, api_key=token)
    made = client.projects.create(title="paratopics: topics of paragraphs",
                                  label_config=config.read_text(encoding="utf-8"))
    assert made.id is not None
    client.projects.import_tasks(made.id, request=json.loads(tasks.read_bytes()))
    task = next(iter(client.tasks.list(project=made.id)))
    assert task.id is not None
    return made.id, task.id


def browse(url: str, project_id: int, task_id: int, out: Path, profile: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        wait = WebDriverWait(driver, 120)
        driver.get(f"{url}/user/login/")
        driver.find_element(By.NAME, "email").send_keys(EMAIL)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()
        wait.until(lambda d: "/user/login" not in d.current_url)
        driver.get(f"{url}/projects/{project_id}/data?task={task_id}")
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "[class*=taxonomy]")))
        time.sleep(3)  # fonts and layout settle
        opener = driver.find_elements(By.CSS_SELECTOR, "[class*=taxonomy] [class*=input], "
                                      "[class*=taxonomy] .ant-select-selector")
        if opener:
            opener[0].click()
            time.sleep(1.0)
            search = driver.find_elements(By.CSS_SELECTOR, "input[placeholder=Search]")
            if search:
                search[0].send_keys("terror")
                time.sleep(1.5)
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
    finally:
        driver.quit()


def main() -> int:
    if sys.argv[1:2] == ["--in-namespace"]:
        url, config, tasks, out, profile = sys.argv[2:7]
        project_id, task_id = project(url, Path(config), Path(tasks))
        browse(url, project_id, task_id, Path(out), Path(profile))
        return 0
    from labelstudio_server import in_namespace, label_studio

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/annotating-label-studio.png")
    with tempfile.TemporaryDirectory(prefix="paratopics-shot-") as scratch:
        tmp = Path(scratch)
        corpus = tmp / "corpus"
        for sub in ("sources", "articles", "annotations", "releases"):
            (corpus / sub).mkdir(parents=True)
        for article in (ROOT / "corpus" / "articles").glob("*.json"):
            shutil.copy2(article, corpus / "articles" / article.name)
        paratopics = [sys.executable, "-m", "paratopics"]
        config = tmp / "config.xml"
        config.write_text(subprocess.run([*paratopics, "tasks", "config", "--tool",
                                          "label-studio"], check=True, capture_output=True,
                                         text=True).stdout, encoding="utf-8")
        tasks = tmp / "tasks.json"
        subprocess.run([*paratopics, "tasks", "export", "--tool", "label-studio", "--corpus",
                        str(corpus), "--out", str(tasks), "--limit", "1", "--seed", "4"],
                       check=True)
        with label_studio(tmp) as server:
            shot = in_namespace(server.namespace, [
                sys.executable, __file__, "--in-namespace", server.url, str(config),
                str(tasks), str(out.resolve()), str(tmp / "chromium-profile")], timeout=600)
            if shot.returncode != 0:
                print(shot.stdout + shot.stderr, file=sys.stderr)
                return 1
    print(f"screenshot written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
