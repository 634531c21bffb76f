"""The synthetic signals of :mod:`emovox.audio.synthetic`, under the name the tests have always used."""

from emovox.audio.synthetic import *  # noqa: F403
from emovox.audio.synthetic import __all__  # noqa: F401
