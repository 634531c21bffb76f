"""Exceptions raised by emovox. Each message is one line that names the input and the cause."""

from __future__ import annotations


class EmovoxError(Exception):
    """Base class of every error emovox raises on purpose."""


class AudioError(EmovoxError):
    """An input could not be turned into usable audio samples."""


class CorpusError(EmovoxError):
    """A corpus root, manifest or split definition is unusable."""


class FeatureError(EmovoxError):
    """Features could not be computed, or were made with another configuration."""


class ModelError(EmovoxError):
    """A model directory is missing, tampered with or incompatible."""


class ParameterError(EmovoxError, ValueError):
    """A parameter value that emovox cannot use (it says what was expected). Also a ``ValueError``, as
    scikit-learn and numpy raise for bad parameters, so code that catches those keeps working."""


class LabelError(ParameterError, CorpusError):
    """An emotion or merge asked for (``emotions=``, ``merge=``) that names no known label: a parameter
    error, and a :class:`CorpusError` as it was before, so code that caught that keeps working."""


class AudioLimitError(AudioError):
    """Audio refused by a limit (its decoded duration): the server answers 413."""


class Cancelled(EmovoxError):
    """Work stopped because its request's time limit passed (see :func:`emovox.audio.cancellable`)."""


def did_you_mean(word: str, choices, shown=None) -> str:
    """``" (did you mean X?)"`` for the closest of ``choices`` (difflib), or ``""``: the hint every
    "unknown ..." error gives.

    Parameters
    ----------
    word : str
        What was given.
    choices : iterable of str
        The valid words.
    shown : callable, optional
        How a match is named in the hint (an alias as the label it stands for); None (default): as it is.

    Returns
    -------
    str

    Examples
    --------
    >>> did_you_mean("hapy", ["angry", "happy", "sad"]), did_you_mean("xyz", ["angry"])
    (' (did you mean happy?)', '')
    """
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {shown(close[0]) if shown else close[0]}?)" if close else ""


def naming(exc: BaseException, name: str) -> str:
    """The one line of ``exc`` naming ``name``: as it is when it names it already (most do), else with
    ``name: `` before it (a check deep in a pipeline knows no file).

    Parameters
    ----------
    exc : BaseException
        The error.
    name : str
        The input it concerns.

    Returns
    -------
    str

    Examples
    --------
    >>> naming(ValueError("bad header"), "a.wav"), naming(ValueError("a.wav: bad header"), "a.wav")
    ('a.wav: bad header', 'a.wav: bad header')
    """
    text = str(exc)
    return text if name in text else f"{name}: {text}"
