"""The people of the Label Studio round trip, run inside the server's network namespace.

`python labelstudio_client.py wait URL` waits for the server's /health;
`python labelstudio_client.py run URL CONFIG TASKS OUT` signs up two users, has
the first enable API tokens for the organization (Label Studio 1.23 disables
legacy tokens by default), creates a project with CONFIG through the SDK,
imports TASKS, lets both users annotate through the API (agreeing, disagreeing,
skipping, a draft, a ground truth), exports the project as JSON into OUT and
prints who the users were as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import requests

PASSWORD = "round-trip-Passw0rd"


def wait(url: str, seconds: float = 600.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"Label Studio at {url} did not answer /health in {seconds:.0f} s")


def signup(url: str, email: str, password: str = PASSWORD) -> requests.Session:
    """A browser-like session of a new user (signup logs the user in)."""
    session = requests.Session()
    session.get(f"{url}/user/signup/", timeout=30).raise_for_status()
    answer = session.post(f"{url}/user/signup/", timeout=60, data={
        "email": email, "password": password,
        "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{url}/user/signup/"})
    answer.raise_for_status()
    if "sessionid" not in session.cookies:
        raise SystemExit(f"signup of {email} failed: {answer.text[:500]}")
    return session


def api(session: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
    headers = {"X-CSRFToken": session.cookies.get("csrftoken", ""), "Referer": url}
    answer = session.request(method, url, headers=headers, timeout=60, **kwargs)
    if answer.status_code >= 400:
        raise SystemExit(f"{method} {url}: {answer.status_code} {answer.text[:500]}")
    return answer.json() if answer.content else None


def topics(*labels: tuple[str, str]) -> dict[str, Any]:
    return {"from_name": "topics", "to_name": "paragraph", "type": "taxonomy",
            "value": {"taxonomy": [list(path) for path in labels]}}


def note(text: str) -> dict[str, Any]:
    return {"from_name": "note", "to_name": "paragraph", "type": "textarea",
            "value": {"text": [text]}}


def run(url: str, config: Path, tasks_file: Path, out: Path) -> None:
    from label_studio_sdk.client import LabelStudio

    tag = time.strftime("%H%M%S")  # a second run on the same server signs up new people
    sessions = {name: signup(url, f"ann.{name}.{tag}@example.org") for name in ("a", "b")}
    api(sessions["a"], "POST", f"{url}/api/jwt/settings",
        json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": True})
    users: dict[str, dict[str, Any]] = {}
    clients = {}
    for name, session in sessions.items():
        me = api(session, "GET", f"{url}/api/current-user/whoami")
        token = api(session, "GET", f"{url}/api/current-user/token")["token"]
        users[name] = {"id": me["id"], "email": me["email"]}
        clients[name] = LabelStudio(base_url=url, api_key=token)

    a, b = clients["a"], clients["b"]
    project = a.projects.create(title="paratopics round trip",
                                label_config=config.read_text(encoding="utf-8"))
    assert project.id is not None
    exported = json.loads(tasks_file.read_text(encoding="utf-8"))
    a.projects.import_tasks(project.id, request=exported)
    tasks = sorted(a.tasks.list(project=project.id), key=lambda t: t.id or 0)
    assert len(tasks) == len(exported) >= 4, len(tasks)
    assert all(t["predictions"][0]["model_version"] for t in exported)
    model_says = exported[0]["predictions"][0]["result"][0]["value"]["taxonomy"] or [
        ["medtop:11000000", "paratopics:defence-cooperation"]]

    other = ("medtop:16000000", "paratopics:insurgency")
    first, second, third, fourth = (t.id for t in tasks[:4])
    assert None not in (first, second, third, fourth)
    # task 1: a accepts the model's labels, b adds one: a disagreement with a tie
    a.annotations.create(id=first, result=[topics(*map(tuple, model_says))])
    b.annotations.create(id=first, result=[topics(*map(tuple, model_says), other),
                                           note("the insurgency is the point")])
    # task 2: both agree; b's judgement is marked ground truth
    a.annotations.create(id=second, result=[topics(other)])
    b.annotations.create(id=second, result=[topics(other)], ground_truth=True)
    # task 3: a skips, b judges "no topic"
    a.annotations.create(id=third, result=[], was_cancelled=True)
    b.annotations.create(id=third, result=[])
    # task 4: a leaves a draft only
    api(sessions["a"], "POST", f"{url}/api/tasks/{fourth}/drafts",
        json={"result": [topics(other)], "lead_time": 3.0})

    with out.open("wb") as handle:
        for chunk in a.projects.exports.download_sync(project.id, export_type="JSON",
                                                      download_all_tasks=True):
            handle.write(chunk)
    print(json.dumps({"project": project.id, "users": users,
                      "tasks": [first, second, third, fourth]}))


if __name__ == "__main__":
    if sys.argv[1] == "wait":
        wait(sys.argv[2])
    else:
        run(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
