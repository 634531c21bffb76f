"""``emovox serve``: a REST API and a web page over one loaded model.

>>> from emovox.server import ServerSettings, create_app
>>> app = create_app("default", ServerSettings(max_upload_mb=10))
>>> app.state.settings.max_upload_mb
10

The page (``/``) records from the browser microphone or takes a file, and runs picture-reaction sessions;
the API is ``POST /v1/predict``, ``GET /v1/model``, ``GET /healthz``, documented at ``/docs``.
FastAPI and uvicorn are imported only here, never by the rest of emovox.
"""

from __future__ import annotations

from .app import ServerSettings, create_app, serve

__all__ = ["ServerSettings", "create_app", "serve"]
