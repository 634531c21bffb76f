"""What every emovox picture shares: the headless matplotlib set-up, saving, and the emotion colours.

matplotlib is imported inside the functions, never at module level: prediction and ``emovox --help``
must not pay for it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: One colour per canonical emotion, used by every picture that colours emotions.
EMOTION_COLORS: dict[str, str] = {
    "neutral": "#8c8c8c",
    "calm": "#76b7b2",
    "happy": "#edc948",
    "sad": "#4e79a7",
    "angry": "#e15759",
    "fearful": "#b07aa1",
    "disgust": "#59a14f",
    "surprised": "#f28e2b",
    "boredom": "#9c755f",
}

#: Palette for labels outside :data:`EMOTION_COLORS` and for lines that are not emotions.
EXTRA_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the headless Agg backend (unless a backend was already chosen).

    Returns
    -------
    module
        ``matplotlib.pyplot``, for callers that want pyplot's figure registry; the pictures of
        :mod:`emovox.plots` themselves do without it (see :func:`new_figure`).

    Examples
    --------
    >>> plt = pyplot()
    >>> fig, ax = plt.subplots()
    >>> save(fig, "empty.png").name  # save also closes pyplot's figures
    'empty.png'
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure outside pyplot's registry: no backend, no leak when callers forget to close it.

    Parameters
    ----------
    figsize : tuple of float
        Width and height in inches.

    Returns
    -------
    matplotlib.figure.Figure
        With the constrained layout.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def save(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` in the format its name's suffix names, PNG without one (creating folders), and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Any figure, made through pyplot or not.
    path : str or Path
        The image file (``.png``, ``.pdf``, ``.svg``...).
    dpi : int
        Resolution.

    Returns
    -------
    Path
        ``path`` (with ``.png`` added when it has no extension).

    Raises
    ------
    EmovoxError
        When ``path`` is an existing folder.

    Examples
    --------
    >>> from emovox.plots import mel_scale
    >>> save(mel_scale(), "figures/mel").as_posix()
    'figures/mel.png'
    """
    path = Path(path)
    if path.is_dir():
        from ..errors import EmovoxError

        raise EmovoxError(f"{path}: is a folder; name the PNG file to write")
    if not path.suffix:  # matplotlib would add it unseen: the name returned (and printed) is the real one
        path = path.with_suffix(".png")
    from ..paths import replacing

    path.parent.mkdir(parents=True, exist_ok=True)
    # whole or not at all, and a full disk's error names the file; the format is the name's, not the
    # temporary file's
    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".").lower())
    if "matplotlib.pyplot" in sys.modules:  # figures made through pyplot must be released
        sys.modules["matplotlib.pyplot"].close(fig)
    return path


def emotion_color(label: str, i: int = 0) -> str:
    """The colour of ``label`` (canonical emotions have fixed colours; others cycle through a palette).

    Parameters
    ----------
    label : str
        The label (compared as a string).
    i : int
        Position of a label outside :data:`EMOTION_COLORS`: picks its colour of :data:`EXTRA_COLORS`,
        cycling (default 0).

    Returns
    -------
    str
        A ``#rrggbb`` colour.

    Examples
    --------
    >>> emotion_color("sad"), emotion_color("sad", 3), emotion_color("bored", 9)
    ('#4e79a7', '#4e79a7', '#ff7f0e')
    """
    return EMOTION_COLORS.get(str(label), EXTRA_COLORS[i % len(EXTRA_COLORS)])


def emotion_order(labels: Iterable[Any]) -> list[str]:
    """The distinct labels, canonical emotions first in their canonical order, then the others sorted.

    Parameters
    ----------
    labels : iterable
        Labels, repeated or not (converted with ``str``).

    Returns
    -------
    list of str
    """
    from ..labels import CANONICAL

    present = {str(x) for x in labels}
    return [lab for lab in CANONICAL if lab in present] + sorted(present - set(CANONICAL))
