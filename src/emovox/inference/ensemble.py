"""An ensemble model directory as one model (:class:`EnsembleModel`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..audio import float_mono, resample
from ..errors import ModelError
from ..models.store import read_model_dir
from .model import EmotionModel
from .recordings import Chunks


class EnsembleModel(EmotionModel, kind="ensemble"):
    """An ensemble model directory (:mod:`emovox.models.ensemble`): member models in sub-directories, their
    probabilities averaged with weights over the union of their labels. Same interface as
    :class:`EmotionModel` (``EmotionModel(dir)`` returns one when the directory holds an ensemble); an
    embedding is the list of each member's.

    Parameters
    ----------
    path : str or path
        The ensemble's model directory.
    check_speech : bool
        As :class:`EmotionModel` takes it (default True).
    emotions : str, list of str or None
        As :class:`EmotionModel` takes it (default None: every emotion of any member).

    Attributes
    ----------
    members : list of (EmotionModel, float, list of int)
        Each member, its weight, and the columns of :attr:`all_labels` its probabilities fill.

    Examples
    --------
    >>> from emovox.inference import BUNDLED_DIR, load_model
    >>> from emovox.models.ensemble import save_ensemble
    >>> members = {"deep": BUNDLED_DIR / "default", "classical": BUNDLED_DIR / "classical"}
    >>> fusion = load_model(save_ensemble("fusion", members))      # written in the current folder
    >>> type(fusion).__name__, [m.path.name for m, weight, _ in fusion.members]
    ('EnsembleModel', ['deep', 'classical'])
    >>> from emovox.audio import synthetic
    >>> fusion.predict_proba(synthetic.white_noise(2.0), sr=16000).shape
    (1, 7)
    """

    def _load_parts(self) -> None:
        self.members: list[tuple[EmotionModel, float, list[int]]] = []
        for m in self.metadata["members"]:
            # through the ensemble's seal first: the member's metadata names (and hashes) its own files
            where = self.path / m["path"]
            meta = read_model_dir(where, verify=False, data=self._read(f"{m['path']}/metadata.json"))
            member = EmotionModel._with_metadata(where, meta, check_speech=False)
            unknown = set(member.labels) - set(self.all_labels)
            if unknown:
                raise ModelError(
                    f"{self.path}: member {m['path']} predicts {sorted(unknown)}, not in the ensemble's labels"
                )
            self.members.append(
                (member, float(m.get("weight", 1.0)), [self.all_labels.index(lab) for lab in member.labels])
            )
        self.sample_rate = self.members[0][0].sample_rate
        self.class_means = None
        # the first member's speech head that has one decides, on that member's embedding
        self._head_member, self.speech_head = next(
            ((i, m.speech_head) for i, (m, _, _) in enumerate(self.members) if m.speech_head is not None),
            (None, None),
        )

    def _head_input(self, embedding: np.ndarray | list) -> np.ndarray:
        return embedding[self._head_member]

    def training_files(self) -> np.ndarray:
        """The fingerprints of every member's training recordings, together (sorted, each once).

        Returns
        -------
        numpy.ndarray
            1-D, ``uint64``.

        Examples
        --------
        >>> from emovox.inference import BUNDLED_DIR, load_model
        >>> from emovox.models.ensemble import save_ensemble
        >>> members = {"deep": BUNDLED_DIR / "default", "classical": BUNDLED_DIR / "classical"}
        >>> fusion = load_model(save_ensemble("fusion", members))
        >>> bool(np.array_equal(fusion.training_files(), np.unique(load_model().training_files())))
        True
        """
        return np.unique(np.concatenate([m.training_files() for m, _, _ in self.members]))

    def _head_embedding(self, y: np.ndarray) -> np.ndarray:
        member = self.members[self._head_member][0]
        return member.embed(resample(float_mono(y), self.sample_rate, member.sample_rate))

    @property
    def can_adapt(self) -> bool:
        """Whether :meth:`proba_session` can adapt to a speaker: some member has class means."""
        return any(m.can_adapt for m, _, _ in self.members)

    def _average(self, parts) -> np.ndarray:
        """Weighted mean of the members' probabilities, each placed in its columns of :attr:`all_labels`."""
        total = 0.0
        for (_, w, cols), p in zip(self.members, parts, strict=True):
            full = np.zeros((len(p), len(self.all_labels)))
            full[:, cols] = p
            total = total + w * full
        return total / sum(w for _, w, _ in self.members)

    def embed(self, y: np.ndarray) -> list:
        """Each member's :meth:`EmotionModel.embed` of one signal, resampled to the member's rate.

        Parameters
        ----------
        y : numpy.ndarray
            Samples at :attr:`sample_rate` (the first member's), mono or with channels.

        Returns
        -------
        list
            One embedding per member, in the order of :attr:`members`.

        Examples
        --------
        >>> from emovox.inference import BUNDLED_DIR, load_model
        >>> from emovox.models.ensemble import save_ensemble
        >>> members = {"deep": BUNDLED_DIR / "default", "classical": BUNDLED_DIR / "classical"}
        >>> fusion = load_model(save_ensemble("fusion", members))
        >>> from emovox.audio import synthetic
        >>> [e.shape for e in fusion.embed(synthetic.white_noise(2.0))]
        [(2048,), (702,)]
        """
        y = float_mono(y)
        return [m.embed(resample(y, self.sample_rate, m.sample_rate)) for m, _, _ in self.members]

    def _raw_proba(self, X: list) -> np.ndarray:
        return self._average(
            [m.proba_from_embeddings(Xm) for (m, _, _), Xm in zip(self.members, X, strict=True)]
        )

    def proba_session(
        self,
        embeddings: Sequence,
        channel: bool = False,
        *,
        report: bool = True,
        recordings: int | None = None,
        restricted: bool = True,
    ) -> np.ndarray:
        """:meth:`EmotionModel.proba_session` of each member on its part of the embeddings (members without class
        means score them as they are), averaged with the members' weights.

        Parameters
        ----------
        embeddings : sequence of list
            :meth:`embed` outputs, one per recording or speech segment.
        channel : bool
            Adapt to a recording channel rather than a speaker (default False).
        report : bool
            Log how much of the offset each member removed (default True).
        recordings : int, optional
            How many recordings the embeddings come from, for that log line; None (default): one each.
        restricted : bool
            Over :attr:`labels` (default); False: over every emotion (as
            :meth:`EmotionModel.proba_from_embeddings`).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(embeddings), len(labels))`` (``restricted`` False: ``len(all_labels)`` columns).

        Examples
        --------
        >>> from emovox.inference import BUNDLED_DIR, load_model
        >>> from emovox.models.ensemble import save_ensemble
        >>> members = {"deep": BUNDLED_DIR / "default", "classical": BUNDLED_DIR / "classical"}
        >>> fusion = load_model(save_ensemble("fusion", members))
        >>> from emovox.audio import synthetic
        >>> X = [fusion.embed(synthetic.white_noise(2.0, seed=s)) for s in range(3)]
        >>> fusion.proba_session(X, report=False).shape
        (3, 7)
        """
        if not len(embeddings):
            return np.zeros((0, len(self.labels if restricted else self.all_labels)))
        parts = [
            m.proba_session([e[k] for e in embeddings], channel, report=report, recordings=recordings)
            for k, (m, _, _) in enumerate(self.members)
        ]
        return self._finish(self._average(parts), restricted)

    def embed_stream(self, chunks: Chunks) -> list:
        """Each member's embedding of a long recording: :meth:`~Recordings.embed_stream` for a member at the
        ensemble's rate (bounded memory where its front end allows), the whole signal resampled for the others.

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of mono chunks at :attr:`sample_rate`.

        Returns
        -------
        list
            One embedding per member, in the order of :attr:`members`.

        Examples
        --------
        >>> from emovox.inference import BUNDLED_DIR, load_model
        >>> from emovox.models.ensemble import save_ensemble
        >>> members = {"deep": BUNDLED_DIR / "default", "classical": BUNDLED_DIR / "classical"}
        >>> fusion = load_model(save_ensemble("fusion", members))
        >>> from emovox.audio import synthetic
        >>> y = synthetic.white_noise(2.0)
        >>> [e.shape for e in fusion.embed_stream(lambda: iter([y[:16000], y[16000:]]))]
        [(2048,), (702,)]
        """
        return [
            m.embed_stream(chunks)
            if m.sample_rate == self.sample_rate
            else m.embed(resample(np.concatenate(list(chunks())), self.sample_rate, m.sample_rate))
            for m, _, _ in self.members
        ]
