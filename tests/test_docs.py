"""The documentation: the site builds with every warning an error (broken links and anchors, a
page left out of the navigation), the README's links lead somewhere, every command's help is
in the generated command reference, and the README leads each reader to their guide."""

import html
import os
import re
import subprocess
import sys

import pytest

from rnnlab.authoring.labs import ROOT, available_labs
from rnnlab.cli import command_line

README = ROOT / "README.md"
# One guide per reader, each linked from the front page.
GUIDES = ["student", "instructor", "tutorial", "writing-a-lab", "course-staff", "running-graders"]
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built from the checkout, strictly; with what mkdocs printed."""
    folder = tmp_path_factory.mktemp("site")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder),
                            "-f", str(ROOT / "mkdocs.yml")], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=300)
    return folder, built


def readme_links():
    """The README's link targets, outside code."""
    text = CODE_SPAN.sub("", FENCED.sub("", README.read_text()))
    return LINK.findall(text)


@pytest.mark.slow  # builds the site: 2 to 4 s
def test_the_site_builds_strictly_without_a_warning(site):
    folder, built = site
    output = built.stdout + built.stderr
    assert built.returncode == 0, output[-5000:]
    assert "WARNING" not in output, output[-5000:]
    assert (folder / "index.html").is_file()


@pytest.mark.slow  # builds the site: 2 to 4 s
def test_the_readme_is_the_home_page_and_each_labs_readme_a_page(site):
    folder, _ = site
    home = (folder / "index.html").read_text()
    assert "rnnlab builds and autogrades recurrent-network labs" in home
    for lab in available_labs():
        page = folder / "labs" / lab / "index.html"
        assert page.is_file(), lab
        first_line = (ROOT / "assignments" / lab / "README.md").read_text().splitlines()[0]
        assert lab in first_line and lab in page.read_text()


def test_every_relative_link_of_the_readme_points_to_a_file():
    links = readme_links()
    assert links
    for target in links:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        assert (ROOT / target.partition("#")[0]).exists(), target


def test_the_readme_links_every_readers_guide():
    linked = {target.partition("#")[0] for target in readme_links()}
    assert not [guide for guide in GUIDES if f"docs/{guide}.md" not in linked]


@pytest.mark.slow  # builds the site: 2 to 4 s
def test_the_command_reference_holds_every_command(site):
    folder, _ = site
    page = (folder / "cli" / "index.html").read_text()
    commands = command_line()._subparsers._group_actions[0]
    summaries = {action.dest: action.help for action in commands._choices_actions}
    assert set(summaries) == set(commands.choices)
    for name in commands.choices:
        assert f'id="rnnlab-{name}"' in page, name
        assert html.escape(summaries[name], quote=False) in page, name


def test_the_student_guide_says_what_the_student_zip_installs():
    """The guide repeats the student zip's install command and pins (a student reads them
    there first): tied here to the code that writes them, so that neither drifts."""
    from importlib.metadata import version

    from rnnlab.authoring.build import STUDENT_README
    from rnnlab.authoring.environments import JUPYTERLAB

    guide = " ".join((ROOT / "docs" / "student.md").read_text().split())  # one line, as read
    install = "python3 -m venv .venv && .venv/bin/pip install --no-compile -r requirements.txt"
    assert install in guide and install in STUDENT_README
    assert f"JupyterLab {JUPYTERLAB.split('==')[1]}" in guide
    assert f"otter-grader {version('otter-grader')}" in guide


def test_the_readmes_table_gives_each_labs_points_as_the_lab_has_them():
    from rnnlab.authoring.labs import load_lab

    rows = {line.split("`")[1]: line for line in README.read_text().splitlines() if line.startswith("| [`")}
    for lab in available_labs():
        described = load_lab(lab)
        autograded = [q for q in described.questions.values() if not q.manual]
        by_hand = sum(q.points for q in described.manual_questions)
        expected = f"| {described.points:g} in {len(autograded)} questions" + (f", + {by_hand:g} by hand |" if by_hand else " |")
        assert expected in rows[lab], rows[lab]
