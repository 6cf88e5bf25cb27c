"""The ``rnnlab`` command: build labs, grade submissions, run the demo."""

import argparse
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from rnnlab_checks.corpora import CORPORA, CorpusNotFound, corpus_path
from rnnlab_engine import grading
from rnnlab_engine.isolation.probe import IsolationError

from .authoring import gradescope_run, new_lab, verify
from .authoring.build import DIST, build_lab, solution_notebook
from .authoring.labs import AuthoringError, available_labs
from .authoring.platforms import PROFILES
from .authoring.variants import buggy_notebook, catalogue, example_files, write_submission
from .batch import batch, gradebooks, history, manual, reports
from .batch.csvfiles import InputFileError
from .batch.roster import apply_roster, read_roster
from .batch.written_page import write_written_answers_page
from .similarity import compare as similarity


def autograder_zip(lab, dist=None):
    """The lab's autograder zip in ``dist`` (default ``DIST``), built first if it is not there
    (grading leaves the committed student template alone: ``rnnlab build`` refreshes it)."""
    dist = Path(dist or DIST)
    path = dist / lab / f"{lab}-autograder.zip"
    if not path.exists():
        build_lab(lab, dist, refresh_template=False)
    return path


def write_examples(lab, dist=None):
    """A correct and a buggy example submission of ``lab``, in ``dist/<lab>/examples/``
    (default ``DIST``)."""
    dist = Path(dist or DIST)
    examples = dist / lab / "examples"
    if examples.exists():
        shutil.rmtree(examples)
    examples.mkdir(parents=True)
    solution = solution_notebook(dist, lab)
    files = example_files(lab, dist / lab / "example-files")
    paths = [write_submission(nbformat.read(solution, as_version=4), examples / f"{lab}-correct.ipynb", files)]
    variants = catalogue(lab)
    if variants:
        paths.append(write_submission(buggy_notebook(solution, variants[0]),
                                      examples / f"{lab}-buggy-{variants[0].name}.ipynb", files))
    return paths


def grade(lab, submissions, out=None, jobs=1, details=None, autograder=None, roster=None, manual_scores=None,
          canvas_assignment=None, scheduler=None, changed_only=False, **limits):
    """Grade files, folders or Gradescope exports; print a table and write every report.

    Reports go to ``out`` (default: a fresh ``grading-output/<lab>/``); failing checks are
    printed too when there are few submissions (or ``details`` says so).  ``autograder``: the
    zip to grade with (default: the lab's in ``dist/``, built if missing).  ``roster``: a CSV
    of who handed in what (``batch.roster``); ``manual_scores``: the scores given by hand to
    the written answers, as ``written-answers.html`` downloads them (``batch.manual``), merged
    into every result, graded now or before; ``canvas_assignment``: Canvas's id of the
    assignment, for canvas.csv; ``scheduler``: the address of a Dask scheduler whose workers
    grade the submissions (``batch.cluster``) instead of this machine.  A roster or scores file
    that cannot be used raises ``InputFileError`` before anything is graded or written.

    Graded again into the same ``out`` with another zip (a regrade), every replaced result is
    kept in ``<submission>/history/`` and ``regrade.csv`` lists each question whose points
    changed (``batch.history``).  ``changed_only``: also write the correction to upload,
    ``gradebook-changed.csv`` and ``canvas-changed.csv``, with the submissions whose score
    changed only; gradebook.csv and canvas.csv still list every submission (see
    ``batch.gradebooks`` for why).
    """
    out = Path(out or Path("grading-output") / lab)
    students = read_roster(roster) if roster else None
    zip_path = autograder or autograder_zip(lab)
    if not scheduler:
        batch.keep_out_of_reach(zip_path, submissions)  # an export holds every student's work
    questions = manual.written_questions(zip_path)
    with tempfile.TemporaryDirectory(prefix="rnnlab-export-") as unpacked:
        found = batch.collect(submissions, unpacked)
        for warning in apply_roster(found, students, roster) if students is not None else []:
            print(f"warning: {warning}", file=sys.stderr)
        scores = manual.read_manual_scores(manual_scores, [s.id for s in found], questions) if manual_scores else {}
        results = batch.grade_all(zip_path, found, out, jobs=jobs, manual_scores=scores, scheduler=scheduler,
                                  **limits)
    regrade = history.write_regrade(out, results)
    reports.write_summary(out, results, regrade)
    gradebooks.write_canvas_gradebook(out, results, lab, questions, canvas_assignment)
    changed = regrade.changed if regrade else set()
    corrections = gradebooks.write_corrections(out, results, changed, lab, questions, canvas_assignment) \
        if changed_only else []
    page = write_written_answers_page(out, lab, results, questions)
    if details if details is not None else len(results) <= 5:
        for result in results:
            summary = reports.failure_summary(result)
            if summary:
                print(f"{result.submission}:\n  " + summary.replace("\n", "\n  "))
    print(reports.score_table(results))
    unscored = [r.submission for r in results if not manual.is_scored(r, questions)]
    if unscored:
        print(f"scored by hand: {len(results) - len(unscored)} of {len(results)}; written answers to score in "
              f"{page}, then merge with --manual: {', '.join(unscored[:5])}"
              + (f" and {len(unscored) - 5} more" if len(unscored) > 5 else ""))
    if regrade:
        print(f"regrade: {len(changed)} of {regrade.compared} submission{'' if regrade.compared == 1 else 's'} graded "
              f"before with another autograder zip changed score; each question: {out / history.REGRADE_CSV}")
    if corrections:
        print(f"correction to upload ({len(changed)} submission{'' if len(changed) == 1 else 's'}): "
              f"{corrections[0]} (Gradescope), {corrections[1]} (Canvas)"
              + ("" if regrade else "; none was graded before with another autograder zip"))
    print(f"reports: {out}/ (gradebook.csv, canvas.csv, summary.html{', written-answers.html' if page else ''}"
          f"{', regrade.csv' if regrade else ''}, <submission>/results.json and feedback.html, earlier results in "
          "<submission>/history/)")
    return results


def share(text):
    """An argument that is a share: a number from 0 to 1."""
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share from 0 to 1")
    return value


def count(text):
    """An argument that is a count: a whole number, 0 or more."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is below 0")
    return value


def command_line():
    """The ``rnnlab`` command's parser, every subcommand and option with its help (what
    ``--help`` prints, and the command reference of the documentation)."""
    parser = argparse.ArgumentParser(prog="rnnlab", description="Build recurrent-network labs, grade and compare "
                                     "the submissions, run the demo.")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="say what is being done (-v: each step and submission; -vv: each cell and question)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    # also after the command (rnnlab build --debug); SUPPRESS keeps the one given before it
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", parents=[debug], help="build student notebooks and autograder zips")
    build.add_argument("labs", nargs="*", help="labs to build (default: all)")
    build.add_argument("--gpu", action="store_true", help="the autograder zip installs PyPI's default torch (the "
                       "CUDA build, several GB) for GPU runners, instead of the CPU build")
    gradescope = commands.add_parser("gradescope", parents=[debug], help="grade a submission with an autograder zip "
                                     "as Gradescope would: the zip unpacked into ROOT/source, the submission in ROOT/submission, "
                                     "its run_autograder's grader, the result in ROOT/results/results.json")
    gradescope.add_argument("autograder", type=Path, help="the autograder zip, as uploaded")
    gradescope.add_argument("submission", nargs="+", type=Path, help="the notebook and the files handed in with "
                            "it, or the zip the notebook's hand-in cell wrote")
    gradescope.add_argument("--root", type=Path, help="the folder that stands for /autograder (default: a new "
                            "temporary folder; kept with --root)")
    grade_cmd = commands.add_parser("grade", parents=[debug], help="grade submissions (.ipynb or .zip)")
    grade_cmd.add_argument("lab", choices=available_labs())
    grade_cmd.add_argument("submissions", nargs="+", type=Path,
                           help=".ipynb or .zip files, a folder of one notebook and its files, folders of those, "
                           "or Gradescope's export zip")
    grade_cmd.add_argument("--out", type=Path, help="where reports go (default grading-output/LAB); "
                           "submissions already graded there with the same content are skipped, and a result "
                           "graded again (another --autograder, changed content) is kept in SUBMISSION/history/ first")
    grade_cmd.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    grade_cmd.add_argument("--scheduler", metavar="ADDRESS", help="grade on a Dask cluster: the scheduler's address "
                           "(tcp://HOST:8786); each submission is a task for its workers (docs/running-graders.md)")
    grade_cmd.add_argument("--time-limit", type=float, default=grading.TIME_LIMIT,
                           help=f"seconds per submission, not counting waits for a busy CPU (default "
                           f"{grading.TIME_LIMIT}; each cell and question: {grading.QUESTION_TIME_LIMIT}); of CPU "
                           f"time, {grading.CPU_LIMIT}/{grading.TIME_LIMIT} of it, as at Gradescope's half a CPU")
    grade_cmd.add_argument("--memory-limit", type=int, default=grading.MEMORY_LIMIT // 2**20,
                           help="MB for the student's kernel (default 768, as on Gradescope)")
    grade_cmd.add_argument("--autograder", type=Path, help="the autograder zip to grade with (default: the "
                           "lab's in dist/, built if missing)")
    grade_cmd.add_argument("--roster", type=Path, help="a CSV of the students, with a header: submission, email, sid "
                           "or name to match each submission on; name, email, sid, canvas id, sis login id and "
                           "section fill the gradebooks")
    grade_cmd.add_argument("--manual", type=Path, help="the scores given by hand to the written answers, as "
                           "written-answers.html downloads them (submission,question,score), merged into every "
                           "result without grading again")
    grade_cmd.add_argument("--canvas-assignment", metavar="ID", help="Canvas's id of the assignment: canvas.csv's "
                           "column is then 'LAB (ID)', which Canvas matches exactly")
    grade_cmd.add_argument("--changed-only", action="store_true", help="after a regrade (graded again into the same "
                           "--out with another --autograder zip), also write gradebook-changed.csv and "
                           "canvas-changed.csv with only the submissions whose score changed (see regrade.csv): the "
                           "correction to upload; gradebook.csv and canvas.csv still list every submission")
    verify_cmd = commands.add_parser("verify", parents=[debug], help="grade the reference and the buggy variants on "
                                     "every platform this machine can emulate, and print the verdicts that differ")
    verify_cmd.add_argument("lab", choices=available_labs())
    verify_cmd.add_argument("--profiles", nargs="+", choices=sorted(PROFILES),
                            help="CPU profiles (default: every one this machine can run)")
    verify_cmd.add_argument("--threads", nargs="+", type=int, default=[1],
                            help="threads per numerical library (default 1, as graded)")
    verify_cmd.add_argument("--python", action="append", default=[], type=Path,
                            help="another Python environment with rnnlab installed (another numpy or torch); "
                            "repeatable")
    verify_cmd.add_argument("--reference-only", action="store_true",
                            help="the reference alone, without the correct rewrites and the buggy variants")
    verify_cmd.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    verify_cmd.add_argument("--out", type=Path, help="keep every platform's reports here")
    verify_cmd.add_argument("--in-process", action="store_true",
                            help="check each notebook in one process, without the engine's kernel and limits: "
                            "the same verdicts in half the time, for a lab's own notebooks only")
    similar = commands.add_parser("similarity", parents=[debug], help="rank the pairs of submissions (and of a "
                                  "submission and a known solution) by the share of their own code they have in "
                                  "common; similarity.html shows each pair side by side")
    similar.add_argument("lab", choices=available_labs())
    similar.add_argument("submissions", nargs="+", type=Path, help="as rnnlab grade takes them: .ipynb or .zip "
                         "files, folders of those, or Gradescope's export zip")
    similar.add_argument("--against", type=Path, metavar="FOLDER", help="known solutions to compare every "
                         "submission with: .py and .ipynb files under FOLDER (found on the web, last year's)")
    similar.add_argument("--out", type=Path, help="where similarity.html and similarity.csv go (default "
                         "grading-output/LAB)")
    similar.add_argument("--min-share", type=share, default=similarity.MIN_SHARE, metavar="SHARE",
                         help=f"list the pairs sharing at least this share of their code (default "
                         f"{similarity.MIN_SHARE})")
    similar.add_argument("--shown", type=count, default=similarity.SHOWN, metavar="N",
                         help=f"pairs shown side by side (default {similarity.SHOWN})")
    new = commands.add_parser("new", parents=[debug], help="lay out a new lab, ready to build: its reference "
                              "solutions/LAB.py and assignments/LAB/ (narrative, lab.toml, one question's tests, "
                              "a buggy variant)")
    new.add_argument("lab", help="the new lab's name, a Python identifier")
    corpus = commands.add_parser("corpus", parents=[debug],
                                 help="find a corpus, downloading it once if need be; print its path")
    corpus.add_argument("name", choices=sorted(CORPORA))
    demo = commands.add_parser("demo", parents=[debug], help="build every lab and grade its example submissions")
    demo.add_argument("labs", nargs="*", help=f"labs to show (default: all of {', '.join(available_labs())})")
    demo.add_argument("--out", type=Path, default=Path("grading-output"))
    return parser


def main(argv=None):
    """Entry point of the ``rnnlab`` console script."""
    parser = command_line()
    args = parser.parse_args(argv)
    if argv is None:  # this process's own command line: no submission's name stays in it
        batch.hide_from_kernels(f"rnnlab {args.command}")
    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger().setLevel([logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)])
    unknown = sorted(set(getattr(args, "labs", [])) - set(available_labs()))
    if unknown:
        parser.error(f"no lab named {', '.join(unknown)} (there are {', '.join(available_labs())})")
    try:
        return run(args)
    except (CorpusNotFound, AuthoringError, InputFileError, IsolationError, grading.ZipTooOld) as error:  # one line
        if args.debug:
            raise
        print(f"rnnlab {args.command}: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - one line; --debug shows where
        if args.debug:
            raise
        print(f"rnnlab {args.command}: {type(error).__name__}: {error} (rnnlab --debug {args.command} ... shows "
              "the traceback)", file=sys.stderr)
        return 1


def run(args):
    """Carry out the parsed command."""
    if args.command == "build":
        for lab in args.labs or available_labs():
            result = build_lab(lab, gpu=args.gpu)
            print(f"{lab}: {result.student_notebook}\n  {result.autograder_zip}\n  {result.student_bundle}")
    elif args.command == "gradescope":
        return gradescope_run.main(args.autograder, args.submission, args.root)
    elif args.command == "corpus":
        print(corpus_path(args.name))
    elif args.command == "new":
        for path in new_lab.new_lab(args.lab):
            print(f"wrote {path}")
        print(f"next: rnnlab build {args.lab}")
    elif args.command == "grade":
        grade(args.lab, args.submissions, args.out, args.jobs, autograder=args.autograder, roster=args.roster,
              manual_scores=args.manual, canvas_assignment=args.canvas_assignment, scheduler=args.scheduler,
              changed_only=args.changed_only, time_limit=args.time_limit, cpu_limit=args.time_limit * grading.CPU_LIMIT / grading.TIME_LIMIT,
              memory_limit=args.memory_limit * 2**20)
    elif args.command == "similarity":
        out = args.out or Path("grading-output") / args.lab
        found = similarity.compare(args.lab, args.submissions, out, args.against, args.min_share, args.shown)
        students = sum(not code.known for code in found.codes)
        print(f"{students} submissions compared; {len(found.pairs)} pairs share {args.min_share:.0%} or more of "
              f"their code")
        for first, second, share in found.ranked()[:10]:
            print(f"  {share:4.0%}  {first}  {second}")
        print(f"reports: {out / 'similarity.html'} and {out / 'similarity.csv'}")
    elif args.command == "verify":
        return verify.main(args.lab, args.profiles, args.threads, args.python, args.reference_only, args.jobs,
                           args.out, args.in_process)
    else:
        missing = []
        for lab in args.labs or available_labs():
            try:
                build_lab(lab, DIST)
            except CorpusNotFound as error:  # the other labs are still worth showing
                print(f"== {lab}: not built: {error}", file=sys.stderr)
                missing.append(lab)
                continue
            print(f"== {lab}: built dist/{lab}/; grading the example submissions")
            grade(lab, write_examples(lab), args.out / lab, details=True)
        print(f"all reports: {args.out}/<lab>/")
        return 1 if missing else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
