"""The JSON the API answers with: response models (which also make the OpenAPI document), the
documented error answers and request bodies, and the ``GET /v1/model`` body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    status: int = Field(description="HTTP status, repeated for clients that only see the body")
    code: str = Field(description="machine-readable cause, e.g. 'unsupported_media_type', 'invalid_audio'")
    error: str = Field(description="one line naming the input and the cause")


def _left_out() -> Any:
    return Field(
        None,
        description="with ?emotions=, the probability the model gives each emotion left out, before "
        "renormalising; null when none is",
    )


def _first_left_out() -> Any:
    return Field(None, description="the model's own first choice, where ?emotions= left it out; else null")


class FirstChoice(BaseModel):
    emotion: str
    probability: float = Field(description="the model's probability of it, before renormalising")


#: A field with a default is still always sent: the answers' schemas say so (required, maybe null), so
#: that a generated client does not type ``uncertain`` as optional.
ALWAYS_SENT = ConfigDict(json_schema_serialization_defaults_required=True)


class Segment(BaseModel):
    model_config = ALWAYS_SENT
    start: float = Field(description="seconds from the start of the audio")
    end: float
    emotion: str | None
    confidence: float | None
    speech: bool = Field(True, description="false: the segment is sound that is not speech (no emotion)")
    uncertain: bool = Field(False, description="true: low calibrated confidence")
    reason: str | None = Field(None, description="why the segment was found to hold no speech")
    probabilities: dict[str, float]
    left_out: dict[str, float] | None = _left_out()
    first_left_out: FirstChoice | None = _first_left_out()


class PredictResponse(BaseModel):
    model_config = ALWAYS_SENT

    source: str = Field(description="the upload's file name, or '<body>' for a raw body")
    speech: bool = Field(
        description="false when the audio holds no speech (silence, noise, hum, tones, music): "
        "then emotion and confidence are null and reason says what was found"
    )
    reason: str | None = Field(None, description="why the audio was found to hold no speech")
    emotion: str | None = Field(
        description="the most probable emotion of the whole recording (null: no speech)"
    )
    confidence: float | None = Field(description="calibrated probability of that emotion")
    uncertain: bool = Field(
        False, description="true when the calibrated confidence is low: treat the answer as a guess"
    )
    probabilities: dict[str, float] = Field(
        description="every label's probability, in the model's order (empty when there is no speech)"
    )
    left_out: dict[str, float] | None = _left_out()
    first_left_out: FirstChoice | None = _first_left_out()
    labels: list[str]
    duration: float = Field(description="seconds of audio")
    timeline: list[Segment] | None = Field(
        description="speech segments with their emotions, for audio longer than the server's --timeline-after "
        "(10 s unless set) or with ?timeline=1; else null"
    )
    timeline_error: str | None = Field(
        None, description="why a long recording got no timeline, if it did not"
    )
    model: str
    elapsed_ms: float


class ReactionResponse(BaseModel):
    model_config = ALWAYS_SENT

    source: str
    speech: bool = Field(description="false: the recording holds no speech (reason says what was heard)")
    reason: str | None = Field(
        None, description="why there is no speech (silence, a tone...), as /v1/predict's"
    )
    emotion: str | None = Field(
        description="emotion of the speech heard; null when the recording holds no speech"
    )
    confidence: float | None
    uncertain: bool = Field(
        False,
        description="treat it as a guess, as /v1/predict's: the calibrated confidence is low, or the speech is "
        "under a second of sound",
    )
    probabilities: dict[str, float] = Field(
        description="speech segments' probabilities averaged by duration (over the emotions asked for, "
        "renormalised)"
    )
    left_out: dict[str, float] | None = _left_out()
    first_left_out: FirstChoice | None = _first_left_out()
    speech_seconds: float
    labels: list[str]
    duration: float
    model: str
    elapsed_ms: float


class Limits(BaseModel):
    max_upload_bytes: int = Field(
        description="largest request body accepted (``--max-upload-mb`` in bytes; 413 beyond): the web page "
        "refuses a larger file before sending it"
    )
    max_seconds: float = Field(
        description="most seconds of decoded audio one upload may hold (413 audio_too_long beyond)"
    )


class ModelInfo(BaseModel):
    name: str
    kind: str | None
    labels: list[str]
    sample_rate: int
    version: str | None = Field(description="the emovox version that wrote the model")
    emovox_version: str = Field(description="the emovox version serving it")
    headline: dict[str, Any] | None = Field(
        None,
        description="the figure that predicts what a user will see: "
        "leave-one-corpus-out (voices, languages and microphones the model "
        "never heard), with its protocol, UA and calibration error",
    )
    metrics: dict[str, Any] | None = Field(
        description="cross-validated metrics stored with the model "
        "(in-domain: unseen speakers of the training corpora)"
    )
    metrics_channel_adapted: dict[str, Any] | None = Field(
        None,
        description="leave-one-corpus-out with every recording of a held-out corpus scored together "
        "(--same-channel), where the model stores the class means adaptation needs",
    )
    calibration: dict[str, Any] | None = Field(None, description="temperature and ECE of the calibration")
    licences: list[str] | None = Field(
        None, description="terms of the training corpora, which the model inherits"
    )
    licence_note: str | None = None
    per_class_recall: dict[str, float] | None
    training: dict[str, Any] | None = Field(description="corpora, utterances, speakers, emotion counts")
    recipe: dict[str, Any] | None = Field(
        description="the trained head: its type and parameters (metadata.json's `model`)"
    )
    recipe_name: str | None = Field(
        None, description="how the model was made (metadata.json's `recipe`, e.g. the bundled recipe's name)"
    )
    frontend: dict[str, Any]
    files: dict[str, str] = Field(description="SHA-256 of each graph file")
    limits: Limits | None = Field(None, description="this server's limits on an upload")


class Health(BaseModel):
    status: str
    model: str
    uptime_s: float


class Picture(BaseModel):
    id: str
    title: str
    expected: str
    prompt: str
    url: str


class PictureList(BaseModel):
    pictures: list[Picture]


#: What every route may answer besides its own (declared, so that a generated client knows them).
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "malformed HTTP request"},
    403: {"model": ErrorBody, "description": "cross-origin request, or a Host the server does not answer to"},
    405: {"model": ErrorBody, "description": "method not allowed on this path"},
}

ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    408: {"model": ErrorBody, "description": "the body did not arrive in time"},
    413: {
        "model": ErrorBody,
        "description": "body larger than the upload limit, or audio longer than the "
        "decoded-duration limit (code audio_too_long)",
    },
    415: {"model": ErrorBody, "description": "not a supported audio format or content type"},
    422: {
        "model": ErrorBody,
        "description": "audio that cannot be used (corrupt, truncated, empty, too short)",
    },
    429: {"model": ErrorBody, "description": "too many requests from this address waiting"},
    503: {"model": ErrorBody, "description": "too many requests waiting"},
    504: {"model": ErrorBody, "description": "inference exceeded the per-request time limit"},
    507: {"model": ErrorBody, "description": "no disk space left on the server to hold the upload"},
}

PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "description": "The audio: a multipart form with a file field (``file``), or the raw bytes of an audio "
        "file (WAV, FLAC, OGG, MP3, AIFF; webm and m4a when ffmpeg is installed).",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "audio/*": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

#: The ``emotions`` query parameter, as ``/v1/predict`` and ``/v1/react`` take it.
EMOTIONS_PARAMETER = {
    "name": "emotions",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "comma-separated emotions to predict over (at least two of the model's labels; "
    "aliases such as anger, or the named sets four, seven, all), e.g. angry,happy,neutral,sad: "
    "probabilities are renormalised over them",
}

PREDICT_EXTRA = {
    **PREDICT_BODY,
    "parameters": [
        EMOTIONS_PARAMETER,
        {
            "name": "timeline",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"]},
            "description": "1: a timeline of speech segments whatever the length; 0: none (default: a "
            "timeline for audio longer than the server's --timeline-after, 10 s unless set)",
        },
    ],
}

REACT_EXTRA = {**PREDICT_BODY, "parameters": [EMOTIONS_PARAMETER]}
