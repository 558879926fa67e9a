"""pandera schemas of every raw source layout (shared strict/coerce base `RawTextModel`)."""
from validation.schemas.base import RawTextModel
from validation.schemas.survey import (
    LAYOUT_MODELS, SurveyInvitations, W1ResponsesCsv, W2ResponsesXlsx, W3ResponsesSav, invitations_schema,
    layout_schema, schema_for_layout, schema_for_wave, validated_columns,
)
from validation.schemas.udi import (
    UdiApplications, UdiDecisions, UdiValidPermits, applications_schema, decisions_schema, permits_schema,
)

__all__ = [
    "RawTextModel", "W1ResponsesCsv", "W2ResponsesXlsx", "W3ResponsesSav", "SurveyInvitations",
    "UdiApplications", "UdiDecisions", "UdiValidPermits", "LAYOUT_MODELS", "schema_for_layout",
    "schema_for_wave", "layout_schema", "validated_columns", "invitations_schema", "applications_schema",
    "decisions_schema", "permits_schema",
]
