"""MkDocs hook of rnnlab's site (``hooks:`` in mkdocs.yml; excluded from the pages).

Every text has one source, which this hook brings into the site as it is built:

- ``README.md`` is the site's home, ``index.md``;
- each lab's ``assignments/<lab>/README.md`` is ``labs/<lab>.md``, listed under "Labs" in the
  navigation (a new lab's page appears with its folder);
- a link is written in each file as it works where the file lies in the repository (on
  GitHub): the README's ``docs/student.md``, a guide's ``../assignments/<lab>/README.md``.
  The hook rewrites every relative link to the page the target became in the site; a link to
  any other file outside ``docs/`` is a warning, which ``strict`` makes an error;
- ``cli.md``'s marker becomes each command's ``--help``, from ``rnnlab.cli.command_line()``;
- a list item indented by 1 to 3 spaces, which GitHub nests and Python-Markdown does not, is a
  warning too.
"""

import os
import posixpath
import re
from contextlib import contextmanager
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLI_PAGE = "cli.md"
CLI_MARKER = "<!-- rnnlab commands -->"
LABS_SECTION = "Labs"
# The width the help is wrapped at, whatever the terminal that builds the site:
HELP_COLUMNS = "80"  # the width of a code block in the Material theme

log = get_plugin_logger(__name__)

# A Markdown link or image's target: ](target) or ](target "title").
LINK = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
# A fence opens with three or more backticks or tildes, and only a bare fence as long closes it.
FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
CODE_SPAN = re.compile(r"(`+).+?\1")
SHALLOW_ITEM = re.compile(r"^ {1,3}([-*+]|\d+\.) ")


def outside_pages():
    """The pages whose source lies outside ``docs/``: site path -> the file it is made from."""
    pages = {"index.md": ROOT / "README.md"}
    for readme in sorted((ROOT / "assignments").glob("*/README.md")):
        pages[f"labs/{readme.parent.name}.md"] = readme
    return pages


def on_config(config):
    """Fill the navigation's "Labs" section with a page per lab."""
    labs = [{path[len("labs/"):-len(".md")]: path} for path in outside_pages() if path.startswith("labs/")]
    for entry in config.nav or []:
        if isinstance(entry, dict) and LABS_SECTION in entry:
            entry[LABS_SECTION] = labs
            return config
    raise PluginError(f"mkdocs.yml's nav has no '{LABS_SECTION}' section for the labs' pages")


def on_files(files, config):
    """Add the pages made from the README and the labs' READMEs."""
    for uri, source in outside_pages().items():
        if files.get_file_from_path(uri) is not None:
            raise PluginError(f"docs/{uri} would stand for {source.relative_to(ROOT)}: remove it (one source)")
        files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files


def on_serve(server, config, builder):
    """``mkdocs serve`` rebuilds when the README or a lab's README changes."""
    for source in outside_pages().values():
        server.watch(str(source))
    return server


def on_page_markdown(markdown, page, config, files):
    uri = page.file.src_uri
    source = outside_pages().get(uri, DOCS / uri)
    markdown = rewrite_links(markdown, source, uri)
    for number, line in unfenced_lines(markdown):
        if SHALLOW_ITEM.match(line):
            log.warning("%s:%d: a list item indented by 1 to 3 spaces is not nested in the site (Python-Markdown "
                        "nests by 4): indent it by 4", source.relative_to(ROOT), number)
    if uri == CLI_PAGE:
        if CLI_MARKER not in markdown:
            raise PluginError(f"docs/{CLI_PAGE} has lost its marker {CLI_MARKER}")
        markdown = markdown.replace(CLI_MARKER, command_reference())
    return markdown


def site_path(target):
    """The site path of the page that the file ``target`` (absolute) is, or None."""
    if target.is_relative_to(DOCS):
        return target.relative_to(DOCS).as_posix()
    for uri, source in outside_pages().items():
        if source == target:
            return uri
    return None


def rewrite_links(markdown, source, uri):
    """Every relative link of ``markdown`` (read from ``source``), outside code, made relative
    to the page ``uri`` it becomes."""
    def rewrite(match):
        target = match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/")):
            return match.group(0)  # a URL, an anchor on this page, or an absolute link (validation warns)
        path, hash_, anchor = target.partition("#")
        resolved = Path(os.path.normpath(source.parent / path))
        page = site_path(resolved)
        if page is None:
            log.warning("%s links to %s, which is not in the site: link a page, or name the file in code",
                        source.relative_to(ROOT), path)
            return match.group(0)
        relative = posixpath.relpath(page, posixpath.dirname(uri) or ".")
        return f"{match.group(1)}{relative}{hash_}{anchor}{match.group(3)}"

    lines = markdown.split("\n")
    for number, line in unfenced_lines(markdown):
        lines[number - 1] = outside_code_spans(line, lambda text: LINK.sub(rewrite, text))
    return "\n".join(lines)


def unfenced_lines(markdown):
    """``(number, line)`` of each line of ``markdown`` outside fenced code blocks."""
    fenced = None
    for number, line in enumerate(markdown.split("\n"), 1):
        fence = FENCE.match(line)
        if fenced is None and fence:
            fenced = fence.group(1)
        elif (fenced is not None and fence and fence.group(1)[0] == fenced[0]
              and len(fence.group(1)) >= len(fenced) and not fence.group(2).strip()):
            fenced = None
        elif fenced is None:
            yield number, line


def outside_code_spans(line, change):
    """``line`` with ``change`` applied to its text outside code spans."""
    pieces, last = [], 0
    for span in CODE_SPAN.finditer(line):
        pieces += [change(line[last:span.start()]), span.group(0)]
        last = span.end()
    return "".join(pieces + [change(line[last:])])


@contextmanager
def help_width():
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def command_reference():
    """``rnnlab --help``, then a heading per command with its one-line help and its ``--help``."""
    from rnnlab.cli import command_line

    parser = command_line()
    commands = parser._subparsers._group_actions[0]
    summaries = {action.dest: action.help for action in commands._choices_actions}
    with help_width():
        parts = ["## rnnlab", "", fenced(parser.format_help())]
        for name, command in commands.choices.items():
            parts += ["", f"## rnnlab {name}", "", summaries.get(name) or "", "", fenced(command.format_help())]
    return "\n".join(parts)


def fenced(text):
    return f"```text\n{text.rstrip()}\n```"
