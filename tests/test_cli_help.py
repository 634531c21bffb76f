"""The CLI's --model help lists every model the registries know (it is static so the CLI starts fast)."""

import re

from emovox.cli.common import MODEL_HELP
from emovox.deep.recipes import RECIPES as DEEP
from emovox.models.classical import CLASSICAL
from emovox.training import RECIPES as ENCODER


def test_model_help_names_every_model():
    listed = set(re.findall(r"[a-z0-9][a-z0-9-]*[a-z0-9]", MODEL_HELP.split(":", 1)[1].replace("emovox[torch]", "")))
    for name in [*CLASSICAL, *ENCODER, *DEEP]:
        assert name in listed, name
