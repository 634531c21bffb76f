"""What every corpus reader shares: the manifest columns, the file walk and the scan report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..audio import find_audio  # noqa: F401  (re-exported: corpora find their files with it)
from ..paths import display_path

#: Columns every manifest has, in this order; readers may add corpus-specific ones after them.
COLUMNS = [
    "path",
    "corpus",
    "utt_id",
    "speaker",
    "gender",
    "age",
    "emotion",
    "emotion_code",
    "intensity",
    "language",
    "duration",
    "sample_rate",
    "channels",
]


class Corpus:
    """A corpus reader: parses one file's path into a manifest row, or says why it does not match.

    Subclasses set ``name``, ``title``, ``language`` and implement :meth:`parse`. ``parse`` returns a
    dict with at least ``utt_id`` (the release's base name without extension, used to match published
    folds), ``speaker``, ``emotion`` (canonical) and ``emotion_code``; or a string saying why the file
    does not follow the naming convention.

    Examples
    --------
    >>> from pathlib import Path
    >>> from emovox.corpora import get_reader
    >>> reader = get_reader("emodb")  # a Corpus subclass
    >>> row = reader.parse(Path("03a01Fa.wav"), reader.context(Path(".")))
    >>> row["speaker"], row["emotion"], row["emotion_code"]
    ('emodb:03', 'happy', 'F')
    """

    name: str = ""
    title: str = ""
    language: str = ""

    def context(self, root: Path) -> dict:
        """Corpus-wide side information found under ``root`` (e.g. a demographics table).

        Parameters
        ----------
        root : Path
            The corpus folder being scanned.

        Returns
        -------
        dict
            Passed to :meth:`parse` as ``ctx`` (empty here).

        Examples
        --------
        >>> Corpus().context(Path("."))
        {}
        """
        return {}

    def parse(self, path: Path, ctx: dict) -> dict | str:
        """One file's manifest row, from its path (and ``ctx``), or why the file does not follow the
        corpus's naming convention; subclasses implement it.

        Parameters
        ----------
        path : Path
            The audio file.
        ctx : dict
            What :meth:`context` found under the scanned root.

        Returns
        -------
        dict or str
            The manifest row's fields, or why the file does not follow the naming convention.

        Examples
        --------
        >>> from emovox.corpora import get_reader
        >>> get_reader("emodb").parse(Path("notes.wav"), {})
        'not SSTTTEV (e.g. 03a01Fa)'
        """
        raise NotImplementedError

    def speaker_id(self, speaker: str) -> str:
        """Speaker ids are prefixed by the corpus so two corpora never share a speaker.

        Parameters
        ----------
        speaker : str
            The speaker as the corpus names it (``03``).

        Returns
        -------
        str
            ``<corpus>:<speaker>`` (``emodb:03``).

        Examples
        --------
        >>> from emovox.corpora import get_reader
        >>> get_reader("emodb").speaker_id("03")
        'emodb:03'
        """
        return f"{self.name}:{speaker}"


@dataclass
class ScanReport:
    """What a scan found: rows kept per corpus, and every skipped file with the reason.

    Attributes
    ----------
    root : str
        The folder scanned.
    corpus : str
        The corpus it was read as (named, or detected).
    n_files : int
        Audio files found (by extension).
    n_rows : int
        Rows of the manifest.
    skipped : list of (str, str)
        ``(path, reason)`` of each file whose name does not follow the corpus's convention.
    unreadable : list of str
        One line per entry with an audio extension that is not a regular file (FIFO, broken link, link
        loop) or not audio at all (empty, text...): not in the manifest.

    Examples
    --------
    >>> report = ScanReport("emodb", "emodb", n_files=3, n_rows=2, skipped=[("emodb/x.wav", "not SSTTTEV")])
    >>> print(report.summary())
    emodb: emodb, 2 utterances from 3 audio files
    skipped 1 file that does not follow the emodb convention:
      emodb/x.wav: not SSTTTEV
    """

    root: str
    corpus: str
    n_files: int = 0
    n_rows: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: entries with an audio extension that are not regular files (FIFO, broken link, link loop), or files
    #: that are not audio at all (empty, text...): not in the manifest
    unreadable: list[str] = field(default_factory=list)

    def mismatch(self) -> str | None:
        """Whether the folder holds audio but none of it follows the corpus's naming convention (a
        ``--corpus`` that is not this folder's).

        Returns
        -------
        str or None
            One line saying so, or None when some file was read (or there was no audio).

        Examples
        --------
        >>> ScanReport("emodb", "ravdess", n_files=4, n_rows=0).mismatch()
        'emodb: none of its 4 audio files follows the ravdess convention'
        """
        if self.n_files and not self.n_rows:
            return f"{self.root}: none of its {self.n_files} audio files follows the {self.corpus} convention"
        return None

    def summary(self, counts: bool = True) -> str:
        """What the scan found and left out, for people.

        Parameters
        ----------
        counts : bool
            Start with a line of counts (default True; ``corpus scan -q`` leaves it out).

        Returns
        -------
        str
            Lines: the counts, the entries that are not audio and the files that do not follow the
            convention, ten of each named, the rest counted by reason.

        Examples
        --------
        >>> report = ScanReport("emodb", "emodb", 12, 0, [(f"emodb/{i}.wav", "not SSTTTEV") for i in range(12)])
        >>> print(report.summary(counts=False))
        skipped 12 files that do not follow the emodb convention:
          emodb/0.wav: not SSTTTEV
        ...
          emodb/9.wav: not SSTTTEV
          ... and 2 more
        """
        rows, files = self.n_rows, self.n_files
        lines = (
            [
                f"{display_path(self.root)}: {self.corpus}, {rows} utterance{'s' * (rows != 1)} from {files} audio "
                f"file{'s' * (files != 1)}"
            ]
            if counts
            else []
        )
        if self.unreadable:
            n = len(self.unreadable)
            what = "entry that is not an audio file" if n == 1 else "entries that are not audio files"
            lines.append(f"skipped {n} {what}:")
            lines.extend(f"  {line.removesuffix('; skipped')}" for line in self.unreadable[:10])
            if n > 10:
                lines.append(f"  ... and {n - 10} more")
        if self.skipped:
            n = len(self.skipped)
            lines.append(
                f"skipped {n} file{'s' * (n != 1)} that do{'es' * (n == 1)} not follow the {self.corpus} convention:"
            )
            for path, reason in self.skipped[:10]:  # (a name's control characters escaped, as above)
                lines.append(f"  {display_path(path)}: {reason}")
            if n > 10:  # the rest counted by reason, unless it is the one reason listed above
                reasons = Counter(r for _, r in self.skipped[10:])
                said = {r for _, r in self.skipped[:10]}
                why = (
                    ""
                    if len(reasons) == 1 and set(reasons) <= said
                    else " (" + "; ".join(f"{k}: {v}" for k, v in reasons.items()) + ")"
                )
                lines.append(f"  ... and {n - 10} more{why}")
        return "\n".join(lines)


def empty_manifest():
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
