"""The CLI's --model help lists every model the registries know (it is static so the CLI starts fast)."""

import re

from emovox.cli.common import MODEL_HELP
from emovox.deep.recipes import RECIPES as DEEP
from emovox.models.classical import CLASSICAL
from emovox.training import RECIPES as ENCODER


def test_model_help_names_every_model():
    listed = set(
        re.findall(r"[a-z0-9][a-z0-9-]*[a-z0-9]", MODEL_HELP.split(":", 1)[1].replace("emovox[torch]", ""))
    )
    for name in [*CLASSICAL, *ENCODER, *DEEP]:
        assert name in listed, name


def _commands(parser, path=()):
    """(words, parser) of every command and sub-command (``("corpus", "scan")``...)."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _commands(sub, (*path, name))


def test_every_argument_has_help_and_every_command_examples():
    import argparse
    import shlex

    from emovox.cli import build_parser
    from emovox.cli.common import argument_problem

    parser = build_parser()
    commands = list(_commands(parser))
    assert {("convert",), ("corpus", "stats"), ("plot",), ("serve",), ("evaluate",)} <= {
        c for c, _ in commands
    }
    for words, sub in commands:
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, (
                f"emovox {' '.join(words)} {action.option_strings or action.dest}: no help text"
            )
        text = sub.format_help()
        assert "\nexamples:\n" in text, f"emovox {' '.join(words)}: no examples"
        lines = [ln.strip() for ln in text.split("\nexamples:\n", 1)[1].splitlines() if ln.strip()]
        ours = [ln for ln in lines if ln.startswith("emovox ")]
        assert any(shlex.split(ln)[1 : len(words) + 1] == list(words) for ln in ours), (words, lines)
        for ln in ours:  # each example parses, and passes the checks made before any work
            args = parser.parse_args(shlex.split(ln)[1:])
            assert argument_problem(args) is None, ln


def test_bare_emovox_shows_the_commands(capsys):
    import pytest

    from emovox.cli import main

    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2
    out = capsys.readouterr()
    assert "required" not in out.err + out.out
    for cmd in (
        "corpus",
        "convert",
        "features",
        "evaluate",
        "train",
        "tune",
        "predict",
        "model",
        "plot",
        "listen",
        "serve",
    ):
        assert f"    {cmd} " in out.err, cmd
    # an error: the help goes to stderr (not into a pipe), and its last line says what was wrong
    assert out.out == "" and out.err.splitlines()[-1] == "emovox: error: choose a command"


def test_an_unknown_option_without_a_command_is_named(capsys):
    """`emovox --bogus` printed the help on stdout and never named --bogus; `corpus stats a b` pointed to
    `emovox corpus --help` rather than the action's own."""
    import pytest

    from emovox.cli import main

    for argv, last in (
        (["--bogus"], "emovox: error: choose a command; --bogus: not an option of emovox"),
        (["corpus"], "emovox corpus: error: choose an action"),
        (["corpus", "stats", "a", "b"], "(see 'emovox corpus stats --help')"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        out = capsys.readouterr()
        assert exit_.value.code == 2 and out.out == "", argv
        assert out.err.splitlines()[-1].endswith(last), out.err


def test_the_help_says_what_each_exit_status_means(capsys):
    """A review (stop 42): the meaning of 0 / 1 / 2 was in no --help."""
    import pytest

    from emovox.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert exit_.value.code == 0
    assert "exit status: 0 done; 1 some inputs failed" in out and "2 a bad option" in out
