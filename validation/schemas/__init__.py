"""pandera schemas of every raw source layout (survey layouts built from the codebook; shared base `RawTextModel`)."""
from validation.schemas.base import RawTextModel
from validation.schemas.survey import (
    SurveyInvitations, invitations_schema, month_order_failures, schema_for_layout, schema_for_wave,
    structural_columns, validated_columns,
)
from validation.schemas.udi import (
    UdiApplications, UdiDecisions, UdiValidPermits, applications_schema, decisions_schema, permits_schema,
)

__all__ = [
    "RawTextModel", "SurveyInvitations", "UdiApplications", "UdiDecisions", "UdiValidPermits",
    "schema_for_layout", "schema_for_wave", "structural_columns", "month_order_failures", "validated_columns",
    "invitations_schema", "applications_schema", "decisions_schema", "permits_schema",
]
