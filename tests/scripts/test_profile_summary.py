"""The one-line reason the benchmark gives for a missed target, from py-spy stacks."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from profile_summary import import_site, summarize_profile

MAIN = "<module> (load_child.py:14)"
LOAD = "load (paratopics/loader.py:160)"
BUILDER = ("load_dataset (datasets/load.py:1667);DatasetBuilder.__init__ (datasets/builder.py:434);"
           "extend_module_for_streaming (datasets/streaming.py:101);"
           "patch_submodule.start (datasets/utils/patching.py:108);"
           "patch_submodule.__enter__ (datasets/utils/patching.py:57)")
IMPORT = ("import_module (importlib/__init__.py:126);"
          "_gcd_import (<frozen importlib._bootstrap>:1204);"
          "_find_and_load (<frozen importlib._bootstrap>:1176);"
          "_call_with_frames_removed (<frozen importlib._bootstrap>:241)")
STARTUP = ("<module> (load_child.py:3);_find_and_load (<frozen importlib._bootstrap>:1176);"
           "<module> (datasets/__init__.py:17)")
WRITE = ("load_dataset (datasets/load.py:1687);"
         "ArrowWriter._write_table (datasets/arrow_writer.py:813)")


def stacks(*lines: tuple[str, int]) -> str:
    return "\n".join(f"{stack} {count}" for stack, count in lines) + "\n"


def test_imports_at_start_up_are_told_from_imports_inside_a_call() -> None:
    late = f"{MAIN};{LOAD};{BUILDER};{IMPORT};<module> (scipy/io/__init__.py:102)"
    assert import_site(late.split(";")) == ("scipy.io", "streaming.extend_module_for_streaming")
    assert import_site(STARTUP.split(";")) is None
    # the cause is the innermost call outside the file that imported: here pkg/a.py
    direct = (f"{MAIN};{LOAD};g (pkg/b.py:2);h (pkg/b.py:5);f (pkg/a.py:1);{IMPORT};"
              "<module> (x.py:1)")
    assert import_site(direct.split(";")) == ("x", "b.h")
    run_m = ("_run_module_as_main (runpy.py:198);_run_code (runpy.py:88);"
             "<module> (paratopics/__main__.py:3);" + STARTUP.split(";", 1)[1])
    assert import_site(run_m.split(";")) is None


def test_shares_are_of_the_samples_inside_calls() -> None:
    text = stacks(
        (STARTUP, 50),
        ("", 20),
        (f"{MAIN};{LOAD};{BUILDER};{IMPORT};<module> (scipy/io/__init__.py:102)", 10),
        (f"{MAIN};{LOAD};{WRITE}", 15),
        (f"{MAIN};{LOAD}", 5),
        ("not a stack line", 0),
    )
    summary = summarize_profile(text)
    assert summary.startswith("100 samples: 50% in start-up imports, 20% with no Python "
                              "frame, 30 inside calls.")
    assert "imports 33% (scipy.io under streaming.extend_module_for_streaming 33%)" in summary
    assert "deepest paratopics frames: loader.load 67%" in summary
    assert "leaf frames: arrow_writer.ArrowWriter._write_table 50%, loader.load 17%" in summary


def test_a_profile_of_start_up_only_says_so() -> None:
    assert summarize_profile(stacks((STARTUP, 7))) == "7 samples, none inside a call"
